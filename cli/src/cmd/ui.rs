//! `weft ui`: serves the node's web page (weft_node::ui) until interrupted, or exports
//! it. Each endpoint's answer is the CLI's own `--json` output for that question, run
//! in the daemon when one runs for this repository, else in this process.

use crate::args::UiArgs;
use crate::ctx::{input, Ctx};
use crate::exit;
use crate::out::Streams;
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use weft_node::daemon::control::Request;
use weft_node::ui::{self, Answerer, Captured, MAX_ANSWER};

/// Answers the page's questions as the CLI would.
struct CliAnswerer {
    root: PathBuf,
}

/// A byte buffer shared with the streams a command writes to, refusing more than
/// [`MAX_ANSWER`] bytes.
#[derive(Clone, Default)]
struct Capped(Arc<Mutex<Vec<u8>>>);

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if bytes.len() + buf.len() > MAX_ANSWER {
            return Err(std::io::Error::other(format!(
                "an answer larger than {MAX_ANSWER} bytes"
            )));
        }
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capped {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Answerer for CliAnswerer {
    fn answer(&self, args: &[String]) -> Captured {
        let request = Request {
            args: args.to_vec(),
            cwd: self.root.clone(),
        };
        if let Some(stream) = weft_node::daemon::client::connect(&self.root) {
            return weft_node::daemon::client::run_captured(stream, &request, MAX_ANSWER)
                .unwrap_or_else(|e| Captured {
                    code: exit::OPERATIONAL,
                    stdout: Vec::new(),
                    stderr: format!("the node daemon: {e}").into_bytes(),
                });
        }
        let (out, err) = (Capped::default(), Capped::default());
        let streams = Streams {
            out: Box::new(out.clone()),
            err: Box::new(err.clone()),
            input: Box::new(std::io::empty()),
        };
        let code = super::run_on_streams(None, &request, streams);
        Captured {
            code,
            stdout: out.take(),
            stderr: err.take(),
        }
    }
}

pub fn run(ctx: &Ctx, args: UiArgs) -> Result<u8> {
    let layout = ctx.layout()?;
    let bundle = ui::bundle::bundle().map_err(input)?;
    let answerer = Arc::new(CliAnswerer {
        root: layout.root.clone(),
    });
    if let Some(dir) = &args.export {
        let exported = ui::export::export(dir, bundle, &*answerer).map_err(input)?;
        if ctx.json {
            ctx.print_json(&serde_json::json!({
                "exported": dir,
                "answers": exported.answers,
                "failed": exported.failed,
            }));
        } else {
            for (key, why) in &exported.failed {
                say!(ctx; "not exported: {key}: {why}");
            }
            say!(ctx;
                "exported {} answers to {} (open {}/index.html)",
                exported.answers,
                dir.display(),
                dir.display()
            );
        }
        return Ok(exit::OK);
    }
    let options = ui::server::ServerOptions {
        addr: std::net::SocketAddr::new(args.bind, args.port),
        token: ui::server::new_token().map_err(input)?,
        tamper_proofs: args.serve_tampered_proofs,
    };
    let open = args.open;
    let announce = |addr: std::net::SocketAddr, url: &str| -> std::io::Result<()> {
        if ctx.json {
            crate::out::json_line(
                ctx,
                &serde_json::json!({"url": url, "port": addr.port(), "token": options.token}),
            )?;
        } else {
            if !addr.ip().is_loopback() {
                complain!(ctx; "warning: listening on {addr}, not loopback: anyone who can reach it and has the token reads this node");
            }
            say!(ctx; "weft ui: {url}");
            say!(ctx; "(Ctrl-C stops it)");
        }
        crate::out::Output::stdout(ctx).flush()?;
        if open {
            if let Err(e) = std::process::Command::new("xdg-open").arg(url).spawn() {
                complain!(ctx; "could not open a browser (xdg-open: {e}); open the address above");
            }
        }
        Ok(())
    };
    ui::server::run(&options, bundle, answerer, &announce)
        .map_err(|e| input(format!("weft ui on {}: {e}", options.addr)))?;
    Ok(exit::OK)
}
