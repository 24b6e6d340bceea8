//! Fuzzes the `weave.toml` loader, `WeaveConfig::from_text` (TOML, unknown keys refused,
//! then the semantic checks: governance rules, assessment rules, ranges, network and
//! peers), on any UTF-8 text: a repository's committed file is input, not trusted.
//!
//! Asserts: an accepted configuration has a governance rule set that builds, an
//! organisation and peer names that are valid names, no peer listed twice, each peer
//! reachable some way, a non-zero announce interval; it serialises back to TOML that
//! loads again to a configuration that serialises to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use weft_node::config::valid_name;
use weft_node::WeaveConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("weave.toml");
    let Ok(config) = WeaveConfig::from_text(Some(text), path) else {
        return;
    };
    assert!(config.rule_set().is_ok());
    assert!(valid_name(&config.network.organisation));
    assert!(config.network.announce_interval >= 1);
    let mut names = std::collections::BTreeSet::new();
    for peer in &config.coordination.peers {
        assert!(peer.check().is_ok());
        assert!(
            names.insert(peer.name.clone()),
            "peer {} listed twice",
            peer.name
        );
    }
    let written = toml::to_string(&config).expect("an accepted configuration serialises");
    let again = WeaveConfig::from_text(Some(&written), path)
        .unwrap_or_else(|e| panic!("the written configuration does not load: {e}\n{written}"));
    assert_eq!(
        toml::to_string(&again).expect("serialises"),
        written,
        "weave.toml round trip"
    );
});
