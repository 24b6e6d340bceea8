use super::*;
use weft_kernel::event::ChainId;
use weft_kernel::merkle::{inclusion_path, root_of, InMemory};

fn key(seed: u8) -> NodeKey {
    NodeKey::from_seed(&[seed; 32])
}

fn head(key: &NodeKey, seq: u64, hash: u8, root: Hash) -> SignedHead {
    SignedHead::sign(
        key,
        ChainId([3; 16]),
        seq,
        Hash([hash; 32]),
        root,
        1_000 + seq,
    )
}

fn advert() -> Advert {
    Advert {
        version: "0.1.0".into(),
        project: "upstream".into(),
        chain_id: "00".repeat(16),
        head_seq: 42,
        languages: vec!["rust".into(), "python".into()],
        symbols: 1_699,
        vectors: 1_699,
        model: "all-MiniLM-L6-v2-int8".into(),
        dims: 384,
        hnsw: true,
        services: vec!["sync".into(), "query".into()],
        p95_us: 850,
        time_ns: 1_700_000_000_000_000_000,
        signer: [0; 32],
        calibration: None,
    }
}

#[test]
fn topics_are_versioned_per_organisation() {
    assert_eq!(Topic::Heads.name("acme"), "/weft/acme/heads/1");
    assert_eq!(
        Topic::Capabilities.name("acme"),
        "/weft/acme/capabilities/1"
    );
    assert_eq!(Topic::Evidence.name("acme"), "/weft/acme/evidence/1");
}

#[test]
fn heads_decode_only_when_whole_and_signed() {
    let h = head(&key(1), 5, 0xaa, Hash([0xbb; 32]));
    let bytes = h.encode();
    assert_eq!(decode_head(&bytes), Ok(h));
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x40;
        assert!(decode_head(&bad).is_err(), "flipped byte {i} accepted");
    }
    assert!(decode_head(&bytes[..bytes.len() - 1]).is_err());
    assert!(matches!(
        decode_head(&vec![0u8; MAX_GOSSIP_BYTES + 1]),
        Err(WireError::TooLarge { .. })
    ));
}

/// `value` written with its map keys in the order given (serde's field order), not the
/// canonical order.
fn in_field_order<T: Serialize>(value: &T) -> Vec<u8> {
    to_cbor(value)
}

#[test]
fn signed_payloads_are_refused_in_any_encoding_but_the_canonical_one() {
    let h = head(&key(1), 5, 0xaa, Hash([0xbb; 32]));
    let canonical = h.encode();
    // The head's fields, keys in another order: the same values, signature valid.
    let reordered = weft_kernel::cbor::encode(&match h.to_value() {
        ciborium::value::Value::Map(mut entries) => {
            entries.reverse();
            ciborium::value::Value::Map(entries)
        }
        other => other,
    });
    assert_ne!(reordered, canonical);
    assert_eq!(
        decode_head(&reordered),
        Err(WireError::NotCanonical("head"))
    );
    let mut trailing = canonical.clone();
    trailing.push(0x00);
    assert!(matches!(
        decode_head(&trailing),
        Err(WireError::Decode { .. })
    ));

    let signed = advert().sign(&key(2));
    let bytes = signed.encode();
    assert_ne!(in_field_order(&signed), bytes);
    assert_eq!(
        SignedAdvert::decode(&in_field_order(&signed)),
        Err(WireError::NotCanonical("advert"))
    );
    // The signature covers the advert exactly as it appears on the wire.
    let message = signed.advert.message();
    let inner = &message[ADVERT_DOMAIN.len()..];
    assert!(bytes.windows(inner.len()).any(|w| w == inner));
}

#[test]
fn a_reannounced_head_is_the_same_head_in_other_bytes() {
    let k = key(1);
    let h = head(&k, 5, 0xaa, Hash([0xbb; 32]));
    let again = reannounced(&h, &k, h.time_ns + 7);
    assert_ne!(again.encode(), h.encode());
    assert_eq!(decode_head(&again.encode()), Ok(again.clone()));
    assert_eq!(
        (
            again.chain_id,
            again.seq,
            again.head_hash,
            again.merkle_root
        ),
        (h.chain_id, h.seq, h.head_hash, h.merkle_root)
    );
    assert!(Evidence::conflict(&h, &again).verify().is_err());
}

#[test]
fn adverts_round_trip_and_tampering_is_caught() {
    let signed = advert().sign(&key(2));
    assert_eq!(signed.advert.signer, key(2).public_key());
    let bytes = signed.encode();
    assert!(bytes.len() < 1024, "an advert stays small: {}", bytes.len());
    assert_eq!(SignedAdvert::decode(&bytes), Ok(signed.clone()));

    let mut changed = signed.clone();
    changed.advert.head_seq += 1;
    assert_eq!(
        SignedAdvert::decode(&changed.encode()),
        Err(WireError::Signature("advert"))
    );
    let mut stolen = signed.clone();
    stolen.advert.signer = key(3).public_key();
    assert!(SignedAdvert::decode(&stolen.encode()).is_err());

    for chain_id in ["03".repeat(15), "AB".repeat(16), "0x".repeat(16)] {
        let mut odd = advert();
        odd.chain_id = chain_id;
        assert!(matches!(
            SignedAdvert::decode(&odd.sign(&key(2)).encode()),
            Err(WireError::Field(_))
        ));
    }
    let mut long = advert();
    long.languages = vec!["x".into(); 17];
    assert!(matches!(
        SignedAdvert::decode(&long.sign(&key(2)).encode()),
        Err(WireError::Field(_))
    ));
    assert!(matches!(
        SignedAdvert::decode(b"\xa1\x01"),
        Err(WireError::Decode { .. })
    ));
}

fn calibration() -> Calibration {
    Calibration {
        embed_per_s: Some(180),
        search_us: Some(4_200),
        verify_per_s: Some(250_000),
        time_ns: 1_699_999_999_000_000_000,
    }
}

/// `signed`'s wire value with `edit` applied to its advert map, signed again by `key` over
/// the edited map as canonically encoded: whatever is refused is refused for its shape,
/// not its signature.
fn resigned_with(
    signed: &SignedAdvert,
    key: &NodeKey,
    edit: impl FnOnce(&mut Vec<(ciborium::value::Value, ciborium::value::Value)>),
) -> Vec<u8> {
    use ciborium::value::Value;
    let Ok(Value::Map(mut advert)) = Value::serialized(&signed.advert) else {
        panic!("an advert is a map");
    };
    edit(&mut advert);
    let inner = weft_kernel::cbor::encode_canonical(Value::Map(advert.clone())).expect("cbor");
    let mut message = ADVERT_DOMAIN.to_vec();
    message.extend(&inner);
    let outer = Value::Map(vec![
        (Value::Text("advert".into()), Value::Map(advert)),
        (
            Value::Text("signature".into()),
            Value::Bytes(key.sign(&message).to_vec()),
        ),
    ]);
    weft_kernel::cbor::encode_canonical(outer).expect("cbor")
}

#[test]
fn an_advert_without_a_calibration_keeps_its_bytes_and_one_with_it_verifies() {
    let plain = advert().sign(&key(2));
    let bytes = plain.encode();
    let needle = b"calibration";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    assert_eq!(SignedAdvert::decode(&bytes), Ok(plain.clone()));

    let calibrated = Advert {
        calibration: Some(calibration()),
        ..advert()
    }
    .sign(&key(2));
    let with = calibrated.encode();
    assert!(with.windows(needle.len()).any(|w| w == needle));
    assert!(
        with.len() < 1024,
        "a calibrated advert stays small: {}",
        with.len()
    );
    assert_eq!(SignedAdvert::decode(&with), Ok(calibrated.clone()));
    // The calibration is signed: changed or stripped by a relay, the advert is refused.
    let mut faster = calibrated.clone();
    faster.advert.calibration = Some(Calibration {
        search_us: Some(1),
        ..calibration()
    });
    assert_eq!(
        SignedAdvert::decode(&faster.encode()),
        Err(WireError::Signature("advert"))
    );
    let mut stripped = calibrated.clone();
    stripped.advert.calibration = None;
    assert_eq!(
        SignedAdvert::decode(&stripped.encode()),
        Err(WireError::Signature("advert"))
    );
    // Figures that could not be measured are left out, one by one.
    let partial = Advert {
        calibration: Some(Calibration {
            embed_per_s: None,
            search_us: None,
            ..calibration()
        }),
        ..advert()
    }
    .sign(&key(2));
    let bytes = partial.encode();
    assert!(!bytes.windows(9).any(|w| w == b"search_us"));
    assert_eq!(SignedAdvert::decode(&bytes), Ok(partial));
}

#[test]
fn a_calibration_in_another_shape_is_refused() {
    use ciborium::value::Value;
    let signed = Advert {
        calibration: Some(calibration()),
        ..advert()
    }
    .sign(&key(2));
    let set = |name: &str, value: Value| {
        let name = name.to_string();
        move |advert: &mut Vec<(Value, Value)>| {
            advert.retain(|(k, _)| *k != Value::Text(name.clone()));
            advert.push((Value::Text(name), value));
        }
    };
    // A zero figure: absent is how nothing measured is said.
    let zero = Advert {
        calibration: Some(Calibration {
            verify_per_s: Some(0),
            ..calibration()
        }),
        ..advert()
    }
    .sign(&key(2));
    assert!(matches!(
        SignedAdvert::decode(&zero.encode()),
        Err(WireError::Field(_))
    ));
    // `null` for no calibration, an unknown figure, a float: not canonical, or not one.
    let null = resigned_with(&signed, &key(2), set("calibration", Value::Null));
    assert_eq!(
        SignedAdvert::decode(&null),
        Err(WireError::NotCanonical("advert"))
    );
    let mut extra = Value::serialized(&calibration()).expect("a map");
    if let Value::Map(entries) = &mut extra {
        entries.push((Value::Text("gpu".into()), Value::Integer(1.into())));
    }
    let unknown = resigned_with(&signed, &key(2), set("calibration", extra));
    assert_eq!(
        SignedAdvert::decode(&unknown),
        Err(WireError::NotCanonical("advert"))
    );
    let mut text = Value::serialized(&calibration()).expect("a map");
    if let Value::Map(entries) = &mut text {
        entries.push((Value::Text("search_us".into()), Value::Text("fast".into())));
        entries.retain(|(k, v)| *k != Value::Text("search_us".into()) || v.is_text());
    }
    let typed = resigned_with(&signed, &key(2), set("calibration", text));
    assert!(matches!(
        SignedAdvert::decode(&typed),
        Err(WireError::Decode { .. })
    ));
    // A calibration that is not a map at all.
    let list = resigned_with(
        &signed,
        &key(2),
        set("calibration", Value::Array(vec![Value::Integer(1.into())])),
    );
    assert!(matches!(
        SignedAdvert::decode(&list),
        Err(WireError::Decode { .. })
    ));
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    // 10,000 nested one-element arrays: a recursive decoder without a limit overflows.
    let mut bytes = vec![0x81u8; 10_000];
    bytes.push(0x00);
    assert!(SignedAdvert::decode(&bytes[..MAX_GOSSIP_BYTES.min(bytes.len())]).is_err());
    assert!(Evidence::decode_verified(&bytes[..MAX_GOSSIP_BYTES.min(bytes.len())]).is_err());
}

#[test]
fn two_heads_at_one_sequence_are_evidence() {
    let k = key(4);
    let a = head(&k, 9, 0x01, Hash([0x10; 32]));
    let b = head(&k, 9, 0x02, Hash([0x20; 32]));
    let found = Evidence::decode_verified(&Evidence::conflict(&a, &b).encode()).expect("evidence");
    assert_eq!(found.kind, "conflict");
    assert_eq!(found.seq, 9);
    assert_eq!(found.signer, k.public_key());

    let same = Evidence::conflict(&a, &a);
    assert!(matches!(same.verify(), Err(WireError::NotEvidence(_))));
    let other = head(&key(5), 9, 0x02, Hash([0x20; 32]));
    assert!(matches!(
        Evidence::conflict(&a, &other).verify(),
        Err(WireError::NotEvidence(_))
    ));
    let later = head(&k, 10, 0x02, Hash([0x20; 32]));
    assert!(matches!(
        Evidence::conflict(&a, &later).verify(),
        Err(WireError::NotEvidence(_))
    ));
    let mut forged = Evidence::conflict(&a, &b);
    let last = forged.second.len() - 1;
    forged.second[last] ^= 1;
    assert!(forged.verify().is_err());
}

/// Leaves of a history whose event 2 is `third`.
fn history(third: u8) -> Vec<Hash> {
    [0x01, 0x02, third, 0x04, 0x05]
        .iter()
        .map(|b| Shake256Merkle::leaf(&[*b; 32]))
        .collect()
}

#[test]
fn a_later_head_over_another_history_is_fork_evidence() {
    let k = key(6);
    let honest_root = root_of::<Shake256Merkle>(&history(0x03)[..3]);
    let earlier = head(&k, 2, 0x03, honest_root);
    let fork_leaves = history(0x33);
    let later = SignedHead::sign(
        &k,
        ChainId([3; 16]),
        4,
        Hash([0x05; 32]),
        root_of::<Shake256Merkle>(&fork_leaves),
        2_000,
    );
    let path = inclusion_path::<Shake256Merkle, _>(&InMemory::<Shake256Merkle>(&fork_leaves), 2, 5)
        .expect("in memory");
    let evidence = |event: u8, path: &[Hash]| Evidence {
        first: earlier.encode(),
        second: later.encode(),
        fork: Some(ForkProof {
            event_hash: [event; 32],
            audit_path: path
                .iter()
                .map(|h| serde_bytes::ByteArray::new(h.0))
                .collect(),
        }),
    };
    let found = evidence(0x33, &path).verify().expect("fork evidence");
    assert_eq!((found.kind, found.seq), ("fork", 2));

    // The later history holding the earlier event is no fork; neither is a bad path.
    let agreeing = history(0x03);
    let agreeing_later = SignedHead::sign(
        &k,
        ChainId([3; 16]),
        4,
        Hash([0x05; 32]),
        root_of::<Shake256Merkle>(&agreeing),
        2_000,
    );
    let agreeing_path =
        inclusion_path::<Shake256Merkle, _>(&InMemory::<Shake256Merkle>(&agreeing), 2, 5)
            .expect("in memory");
    let mut honest = evidence(0x03, &agreeing_path);
    honest.second = agreeing_later.encode();
    assert!(matches!(honest.verify(), Err(WireError::NotEvidence(_))));
    let mut bad_path = path.clone();
    bad_path[0] = Hash([0; 32]);
    assert!(evidence(0x33, &bad_path).verify().is_err());
    let mut reversed = evidence(0x33, &path);
    std::mem::swap(&mut reversed.first, &mut reversed.second);
    assert!(reversed.verify().is_err());
}

#[test]
fn sync_requests_are_capped_to_the_protocol_limits() {
    let asked = SyncRequest {
        chain_id: [1; 16],
        from: 7,
        max_count: u32::MAX,
        max_bytes: 0,
    };
    let capped = asked.capped();
    assert_eq!(
        (capped.max_count, capped.max_bytes, capped.from),
        (SYNC_MAX_EVENTS, 1, 7)
    );
}

#[test]
fn a_served_range_survives_the_wire_and_oversized_ones_do_not() {
    let k = key(7);
    let range = Range {
        from: 3,
        events: vec![vec![1, 2, 3], vec![4]],
        head: head(&k, 9, 1, Hash([2; 32])),
        consistency: vec![Hash([5; 32]); 3],
        first_path: vec![Hash([6; 32]); 4],
    };
    let mut bytes = Vec::new();
    ciborium::into_writer(&SyncResponse::from_range(&range), &mut bytes).expect("encode");
    let back: SyncResponse = ciborium::from_reader(bytes.as_slice()).expect("decode");
    assert_eq!(back.into_range(3), Ok(range.clone()));

    let mut huge = SyncResponse::from_range(&range);
    if let SyncResponse::Range { consistency, .. } = &mut huge {
        consistency.resize(65, serde_bytes::ByteArray::new([0; 32]));
    }
    assert!(matches!(huge.into_range(3), Err(WireError::Field(_))));
    let refused = SyncResponse::Refused {
        reason: "unknown chain".into(),
    };
    assert!(refused.into_range(0).is_err());
}

#[test]
fn a_sync_response_with_too_many_items_is_refused_while_it_decodes() {
    let range = |events: usize, path: usize| SyncResponse::Range {
        events: vec![EventBytes::from(vec![0u8]); events],
        head: Vec::new(),
        consistency: vec![serde_bytes::ByteArray::new([0; 32]); path],
        first_path: Vec::new(),
    };
    let decode = |response: &SyncResponse| {
        let mut bytes = Vec::new();
        ciborium::into_writer(response, &mut bytes).expect("encode");
        ciborium::from_reader::<SyncResponse, _>(bytes.as_slice())
    };
    assert!(decode(&range(SYNC_MAX_EVENTS as usize, MAX_AUDIT_PATH)).is_ok());
    let err = decode(&range(SYNC_MAX_EVENTS as usize + 1, 0)).expect_err("too many events");
    let bound = format!("more than {SYNC_MAX_EVENTS}");
    assert!(err.to_string().contains(&bound), "{err}");
    assert!(
        decode(&range(0, MAX_AUDIT_PATH + 1)).is_err(),
        "too long a proof"
    );
}
