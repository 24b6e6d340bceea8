//! The HTTP server of `weft ui`: read-only endpoints under `/api/` and the embedded page,
//! bound to loopback unless told otherwise. Every request must carry the run's random
//! token (in the URL's `token`, the `X-Weft-Token` header, or the cookie set when the
//! page is first opened with it), as Jupyter does; a loopback server also refuses a
//! `Host` that is not loopback (DNS rebinding). Every response carries a strict
//! Content-Security-Policy: the page loads nothing from anywhere else.

use super::bundle::Bundle;
use super::question::{BadQuestion, Question};
use super::{answer_error, answer_json, Answerer};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The page's Content-Security-Policy: its own scripts, styles and requests only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen (port 0: any free one).
    pub addr: SocketAddr,
    /// The run's token (hex).
    pub token: String,
    /// Test aid: serve every inclusion proof with one byte of it changed, so the page's
    /// own check must fail (`weft ui --serve-tampered-proofs`).
    pub tamper_proofs: bool,
}

/// A fresh random token: 32 bytes, hex.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the token: {e}"))?;
    Ok(hex::encode(bytes))
}

struct Shared {
    answerer: Arc<dyn Answerer>,
    /// One command at a time: an in-process answer opens the node's store.
    running: Mutex<()>,
    bundle: Bundle,
    token: String,
    cookie: String,
    port: u16,
    loopback: bool,
    tamper_proofs: bool,
}

/// A server bound to its address, not serving yet.
pub struct Bound {
    listener: tokio::net::TcpListener,
    router: Router,
    /// The address it listens on.
    pub addr: SocketAddr,
}

impl Bound {
    /// The page's address with the token.
    pub fn url(&self, token: &str) -> String {
        format!("http://{}/?token={token}", self.addr)
    }

    /// Serves until `stop` resolves.
    pub async fn serve(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(stop)
            .await
    }
}

/// Binds the server (inside a Tokio runtime).
pub async fn bind(
    options: &ServerOptions,
    bundle: Bundle,
    answerer: Arc<dyn Answerer>,
) -> std::io::Result<Bound> {
    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        answerer,
        running: Mutex::new(()),
        bundle,
        token: options.token.clone(),
        cookie: format!("weft_ui_{}", addr.port()),
        port: addr.port(),
        loopback: addr.ip().is_loopback(),
        tamper_proofs: options.tamper_proofs,
    });
    let router = Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/app.js", get(asset))
        .route("/app.css", get(asset))
        .route("/data.js", get(asset))
        .route("/api/{*rest}", get(api))
        .route("/favicon.ico", get(no_icon))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared);
    Ok(Bound {
        listener,
        router,
        addr,
    })
}

fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_token<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the `Host` a loopback server was asked by is a loopback name of its port.
fn loopback_host(headers: &HeaderMap, port: u16) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == format!("{name}:{port}"))
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": message }).to_string(),
    )
        .into_response()
}

/// Token and host checks before anything else; security headers on every response.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let mut response = if shared.loopback && !loopback_host(headers, shared.port) {
        error(
            StatusCode::FORBIDDEN,
            "this server answers only requests addressed to 127.0.0.1, localhost or [::1]",
        )
    } else {
        let from_query = Query::<BTreeMap<String, String>>::try_from_uri(request.uri())
            .ok()
            .and_then(|q| q.0.get("token").cloned());
        let offered = [
            from_query.as_deref(),
            headers.get("x-weft-token").and_then(|v| v.to_str().ok()),
            cookie_token(headers, &shared.cookie),
        ];
        let valid = |t: &Option<&str>| {
            t.is_some_and(|t| equal_in_constant_time(t.as_bytes(), shared.token.as_bytes()))
        };
        if offered.iter().any(valid) {
            let set_cookie = valid(&offered[0]);
            let mut response = next.run(request).await;
            if set_cookie {
                let cookie = format!(
                    "{}={}; HttpOnly; SameSite=Strict; Path=/",
                    shared.cookie, shared.token
                );
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, v);
                }
            }
            response
        } else {
            error(
                StatusCode::UNAUTHORIZED,
                "a token is required: open the address `weft ui` printed (it ends in ?token=…)",
            )
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        shared.bundle.index,
    )
        .into_response()
}

async fn asset(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (body, kind) = match request.uri().path() {
        "/app.js" => (shared.bundle.app_js, "text/javascript; charset=utf-8"),
        "/app.css" => (shared.bundle.app_css, "text/css; charset=utf-8"),
        _ => (shared.bundle.data_js, "text/javascript; charset=utf-8"),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Browsers ask for an icon; there is none, and a 404 would be logged as a page error.
async fn no_icon() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("nothing at {}", request.uri().path()),
    )
}

async fn api(
    State(shared): State<Arc<Shared>>,
    Query(mut params): Query<BTreeMap<String, String>>,
    request: Request,
) -> Response {
    params.remove("token");
    let path = request.uri().path().trim_start_matches("/api").to_string();
    let question = match Question::parse(&path, &params) {
        Ok(q) => q,
        Err(e @ BadQuestion::NotFound(_)) => return error(StatusCode::NOT_FOUND, &e.to_string()),
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let worker = shared.clone();
    let asked = question.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let _one_at_a_time = worker.running.lock().unwrap_or_else(|p| p.into_inner());
        worker.answerer.answer(&asked.args())
    })
    .await;
    let captured = match answered {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the answer failed: {e}"),
            )
        }
    };
    if captured.code != 0 {
        let status = match captured.code {
            1 => StatusCode::UNPROCESSABLE_ENTITY,
            2 => StatusCode::BAD_REQUEST,
            4 => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        return error(status, &answer_error(&captured));
    }
    match answer_json(&captured, question.prints_lines()) {
        Ok(mut value) => {
            if shared.tamper_proofs && matches!(question, Question::Proof(_)) {
                tamper(&mut value);
            }
            (
                [(header::CONTENT_TYPE, "application/json")],
                value.to_string(),
            )
                .into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

/// Changes one hex digit of a proof: the first audit-path hash, or the head's signature
/// when the path is empty.
pub fn tamper(proof: &mut serde_json::Value) {
    let target = match proof.pointer_mut("/audit_path/0") {
        Some(v) => Some(v),
        None => proof.pointer_mut("/signed_head/signature"),
    };
    if let Some(serde_json::Value::String(hex)) = target {
        if let Some(last) = hex.pop() {
            hex.push(if last == '0' { '1' } else { '0' });
        }
    }
}

/// Binds and serves on a runtime of its own until Ctrl-C or SIGTERM, calling
/// `announce` with the address and the page's URL once it listens.
pub fn run(
    options: &ServerOptions,
    bundle: Bundle,
    answerer: Arc<dyn Answerer>,
    announce: &dyn Fn(SocketAddr, &str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let bound = bind(options, bundle, answerer).await?;
        announce(bound.addr, &bound.url(&options.token))?;
        bound.serve(stop_signal()).await
    })
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tampered_proof_differs_in_one_digit() {
        let mut with_path =
            serde_json::json!({"audit_path": ["ab0", "cd"], "signed_head": {"signature": "ff"}});
        tamper(&mut with_path);
        assert_eq!(with_path["audit_path"][0], "ab1");
        assert_eq!(with_path["signed_head"]["signature"], "ff");
        let mut single = serde_json::json!({"audit_path": [], "signed_head": {"signature": "f1"}});
        tamper(&mut single);
        assert_eq!(single["signed_head"]["signature"], "f0");
    }

    #[test]
    fn hosts_and_cookies_are_read_exactly() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8123"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; weft_ui_8123=tok; b=2"),
        );
        assert!(loopback_host(&headers, 8123));
        assert!(!loopback_host(&headers, 8124));
        assert_eq!(cookie_token(&headers, "weft_ui_8123"), Some("tok"));
        assert_eq!(cookie_token(&headers, "weft_ui_81"), None);
        headers.insert(header::HOST, HeaderValue::from_static("evil.example:8123"));
        assert!(!loopback_host(&headers, 8123));
        assert!(equal_in_constant_time(b"abc", b"abc"));
        assert!(!equal_in_constant_time(b"abc", b"abd"));
        assert!(!equal_in_constant_time(b"abc", b"ab"));
    }
}
