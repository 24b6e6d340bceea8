//! One identity for chain and mesh: the node's Ed25519 chain key is its libp2p key, so a
//! `PeerId` names a chain signer and a head's signer names a peer.

use libp2p::identity::{self, Keypair, PeerId};
use weft_kernel::NodeKey;

/// The libp2p keypair of a node key.
pub fn keypair(key: &NodeKey) -> Keypair {
    let mut secret = key.signing_key().to_bytes();
    identity::Keypair::ed25519_from_bytes(&mut secret)
        .expect("an Ed25519 secret key is 32 bytes, which libp2p accepts")
}

/// The peer id of an Ed25519 public key, or None when the bytes are not a valid key.
pub fn peer_id(public_key: &[u8; 32]) -> Option<PeerId> {
    let key = identity::ed25519::PublicKey::try_from_bytes(public_key).ok()?;
    Some(identity::PublicKey::from(key).to_peer_id())
}

/// The Ed25519 public key a peer id embeds, or None for ids of other key types (or hashed
/// ids, which do not embed their key).
pub fn public_key(peer: &PeerId) -> Option<[u8; 32]> {
    let multihash = peer.as_ref();
    // Ed25519 ids use the identity multihash (code 0): the digest is the protobuf key.
    if multihash.code() != 0 {
        return None;
    }
    let key = identity::PublicKey::try_decode_protobuf(multihash.digest()).ok()?;
    Some(key.try_into_ed25519().ok()?.to_bytes())
}

/// Parses a peer id as printed by `weft status` (base58).
pub fn parse_peer_id(text: &str) -> Result<PeerId, String> {
    let peer: PeerId = text
        .parse()
        .map_err(|e| format!("{text:?} is not a peer id: {e}"))?;
    if public_key(&peer).is_none() {
        return Err(format!(
            "{text:?} is not an Ed25519 peer id (weft nodes use Ed25519 keys)"
        ));
    }
    Ok(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_key_and_peer_id_round_trip() {
        let key = NodeKey::from_seed(&[7; 32]);
        let pair = keypair(&key);
        let from_pair = pair.public().to_peer_id();
        assert_eq!(Some(from_pair), peer_id(&key.public_key()));
        assert_eq!(public_key(&from_pair), Some(key.public_key()));
        assert_eq!(parse_peer_id(&from_pair.to_base58()), Ok(from_pair));
        assert!(parse_peer_id("not-a-peer").is_err());
    }

    #[test]
    fn known_answer_peer_id() {
        // The libp2p spec's encoding (identity multihash of the protobuf public key,
        // base58btc) of the seed-7 key, computed independently with Python's
        // `cryptography` package: a change in how ids are derived is noticed.
        let key = NodeKey::from_seed(&[7; 32]);
        let peer = peer_id(&key.public_key()).expect("valid key");
        assert_eq!(peer.to_base58(), KNOWN_PEER_ID);
    }

    const KNOWN_PEER_ID: &str = "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7";
}
