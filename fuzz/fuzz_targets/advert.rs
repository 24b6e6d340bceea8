//! Fuzzes the capability-advert decoder, `SignedAdvert::decode` (gossip, CBOR), and the
//! gatekeeper's verdict on the capabilities topic.
//!
//! Asserts: an accepted advert is within the documented bounds (docs/protocol.md: at most
//! 16 languages and services, strings of at most 128 bytes, calibration figures absent or
//! positive), its signature verifies under the key it names, it re-encodes to exactly the
//! input (adverts travel in canonical CBOR, docs/protocol.md), and the gatekeeper accepts
//! exactly what the decoder accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_fuzz::gossip_accepted;
use weft_net::wire::{SignedAdvert, Topic};

/// Bounds docs/protocol.md gives an advert's lists and strings.
const MAX_LIST: usize = 16;
const MAX_TEXT: usize = 128;

fuzz_target!(|data: &[u8]| {
    let decoded = SignedAdvert::decode(data);
    assert_eq!(gossip_accepted(Topic::Capabilities, data), decoded.is_ok());
    let Ok(signed) = decoded else {
        return;
    };
    let advert = &signed.advert;
    for text in [
        &advert.version,
        &advert.project,
        &advert.chain_id,
        &advert.model,
    ] {
        assert!(
            text.len() <= MAX_TEXT,
            "an advert string over {MAX_TEXT} bytes"
        );
    }
    for list in [&advert.languages, &advert.services] {
        assert!(list.len() <= MAX_LIST, "an advert list over {MAX_LIST}");
        assert!(list.iter().all(|t| t.len() <= MAX_TEXT));
    }
    if let Some(c) = &advert.calibration {
        let figures = [c.embed_per_s, c.search_us, c.verify_per_s];
        assert!(!figures.contains(&Some(0)), "a zero calibration figure");
    }
    assert_eq!(signed.encode(), data, "an accepted advert is not canonical");
});
