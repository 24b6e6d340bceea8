//! Trust anchors pinned on first use: a committed, hot-reloaded `weave.toml` proposes
//! peer keys, and a changed key, a peer the file adds later, or a switch to open trust
//! wait for `weft peers trust`. The user's own `weft peers add` is a confirmation.

use serde_json::Value;
use weft_tests::Repo;

fn peer<'a>(listing: &'a Value, name: &str) -> &'a Value {
    listing["peers"]
        .as_array()
        .expect("peers")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no peer {name} in {listing}"))
}

fn flags(peer: &Value) -> Vec<String> {
    peer["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| f.as_str().expect("flag").to_string())
        .collect()
}

fn peer_id_of(repo: &Repo) -> String {
    repo.json(&["status"])["peer_id"]
        .as_str()
        .expect("peer_id")
        .to_string()
}

fn write_config(repo: &Repo, text: &str) {
    std::fs::write(repo.file("weave.toml"), text).expect("weave.toml");
}

fn path_peer(name: &str, other: &Repo) -> String {
    format!(
        "[[coordination.peers]]\nname = \"{name}\"\npath = \"{}\"\n",
        other.path().display()
    )
}

#[test]
fn a_changed_key_waits_for_confirmation_and_the_pinned_key_stays_trusted() {
    let (node, first, second) = (
        Repo::initialised(),
        Repo::initialised(),
        Repo::initialised(),
    );
    write_config(&node, &path_peer("b", &first));
    let listing = node.json(&["peers"]);
    assert_eq!(peer(&listing, "b")["peer_id"], peer_id_of(&first));
    assert!(flags(peer(&listing, "b")).is_empty(), "{listing}");

    // The file now says `b` is another key: as a pulled commit could.
    write_config(&node, &path_peer("b", &second));
    let listing = node.json(&["peers"]);
    let b = peer(&listing, "b");
    assert_eq!(b["peer_id"], peer_id_of(&first), "the pinned key stays");
    assert_eq!(flags(b), ["key-changed"], "{listing}");
    assert!(
        b["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("weft peers trust b")),
        "{listing}"
    );

    let confirmed = node.json(&["peers", "trust", "b"]);
    assert_eq!(confirmed["peer"], "b");
    let listing = node.json(&["peers"]);
    let b = peer(&listing, "b");
    assert_eq!(b["peer_id"], peer_id_of(&second));
    assert!(flags(b).is_empty(), "{listing}");
}

#[test]
fn a_peer_the_file_adds_later_waits_and_one_the_user_adds_does_not() {
    let (node, first, added, listed) = (
        Repo::initialised(),
        Repo::initialised(),
        Repo::initialised(),
        Repo::initialised(),
    );
    write_config(&node, &path_peer("b", &first));
    node.json(&["peers"]);
    write_config(
        &node,
        &format!("{}\n{}", path_peer("b", &first), path_peer("m", &listed)),
    );
    let listing = node.json(&["peers"]);
    let m = peer(&listing, "m");
    assert_eq!(m["peer_id"], Value::Null, "not followed: {listing}");
    assert_eq!(flags(m), ["unconfirmed"], "{listing}");

    node.weft(&["peers", "add", "n", "--path"])
        .arg(added.path())
        .assert()
        .success();
    let listing = node.json(&["peers"]);
    let n = peer(&listing, "n");
    assert_eq!(n["peer_id"], peer_id_of(&added));
    assert!(flags(n).is_empty(), "{listing}");
    assert_eq!(flags(peer(&listing, "m")), ["unconfirmed"]);

    node.weft(&["peers", "trust", "m"]).assert().success();
    let listing = node.json(&["peers"]);
    assert_eq!(peer(&listing, "m")["peer_id"], peer_id_of(&listed));
    node.weft(&["peers", "trust", "nobody"]).assert().code(2);
}

#[test]
fn open_trust_from_a_file_change_waits_for_confirmation() {
    let node = Repo::initialised();
    write_config(&node, "");
    node.json(&["peers"]);
    write_config(&node, "[network]\ntrust = \"open\"\n");
    let listing = node.json(&["peers"]);
    let notices = listing["notices"].as_array().expect("notices");
    assert_eq!(notices.len(), 1, "{listing}");
    assert!(notices[0]
        .as_str()
        .is_some_and(|n| n.contains("weft peers trust --open")));
    node.weft(&["peers", "trust", "--open"]).assert().success();
    let listing = node.json(&["peers"]);
    assert_eq!(listing["notices"], Value::Array(vec![]), "{listing}");
}

#[test]
fn damaged_pins_are_an_error_not_a_reset_of_trust() {
    let (node, first) = (Repo::initialised(), Repo::initialised());
    write_config(&node, &path_peer("b", &first));
    node.json(&["peers"]);
    std::fs::write(node.file(".weftos/peers/.pins.json"), b"{\"open\": tr").expect("damage");
    let out = node.weft(&["peers"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("trust pins"));
}
