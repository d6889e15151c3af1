//! Where Nix puts a locked input's source: a pure function of the lock's `narHash` and the
//! store directory, computed the way Nix computes the path of a fixed-output, recursively
//! hashed store object named `source` (`Store::makeFixedOutputPath` → `makeStorePath`), so no
//! `nix` program is asked.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The store directory when nothing says otherwise.
pub const DEFAULT_STORE_DIR: &str = "/nix/store";

/// The name Nix gives every fetched flake input's store path.
const SOURCE_NAME: &str = "source";

/// Nix's base-32 digits: no `e`, `o`, `u`, `t`, so no words are spelt by accident.
const NIX_BASE32: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// The SHA-256 digest of a `narHash` written as Nix writes it in `flake.lock`: SRI
/// (`sha256-<base64>`), or `sha256:` followed by base 16, Nix's base 32 or base 64 (older locks
/// and hand-written ones). Any other algorithm or a malformed digest is `None`: the input's
/// place in the store is then unknown.
pub fn parse_nar_hash(text: &str) -> Option<[u8; 32]> {
    let bytes = if let Some(b64) = text.strip_prefix("sha256-") {
        base64::engine::general_purpose::STANDARD.decode(b64).ok()?
    } else {
        let digest = text.strip_prefix("sha256:")?;
        match digest.len() {
            64 => decode_base16(digest)?,
            52 => decode_nix_base32(digest)?,
            44 => base64::engine::general_purpose::STANDARD
                .decode(digest)
                .ok()?,
            _ => return None,
        }
    };
    bytes.try_into().ok()
}

/// The store directory as Nix canonicalises it before hashing it into paths: absolute, with
/// `.` and `..` resolved and no repeated or trailing slash (links are not followed). `None` for
/// a relative path, which Nix refuses as a store directory.
pub fn canonical_store_dir(dir: &str) -> Option<String> {
    if !dir.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The store path of the source whose NAR serialisation has this SHA-256, in `store_dir`
/// (already canonical): `<store_dir>/<hash>-source`.
pub fn source_store_path(store_dir: &str, nar_sha256: &[u8; 32]) -> String {
    // Nix's `makeStorePath("source", sha256:<base16>, "source")`: the type `source` carries no
    // references, as a fetched input has none.
    let fingerprint = format!(
        "source:sha256:{}:{store_dir}:{SOURCE_NAME}",
        encode_base16(nar_sha256)
    );
    let digest = Sha256::digest(fingerprint.as_bytes());
    format!(
        "{store_dir}/{}-{SOURCE_NAME}",
        encode_nix_base32(&compress(&digest, 20))
    )
}

/// Nix's `compressHash`: folds a digest into `size` bytes by XOR.
fn compress(digest: &[u8], size: usize) -> Vec<u8> {
    let mut out = vec![0u8; size];
    for (i, b) in digest.iter().enumerate() {
        out[i % size] ^= b;
    }
    out
}

/// Nix's base 32: the bits are read from the last character to the first, five at a time from
/// the least significant bit of the first byte.
pub fn encode_nix_base32(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let len = (bytes.len() * 8 - 1) / 5 + 1;
    (0..len)
        .rev()
        .map(|n| {
            let b = n * 5;
            let (i, j) = (b / 8, b % 8);
            let low = u16::from(bytes[i]) >> j;
            let high = bytes
                .get(i + 1)
                .map_or(0, |&next| u16::from(next) << (8 - j));
            NIX_BASE32[usize::from((low | high) & 0x1f)] as char
        })
        .collect()
}

/// The inverse of [`encode_nix_base32`] for a 32-byte digest (52 characters); `None` for a
/// character outside the alphabet or bits beyond the digest.
fn decode_nix_base32(text: &str) -> Option<Vec<u8>> {
    let size = 32;
    let mut out = vec![0u8; size];
    for (n, c) in text.bytes().rev().enumerate() {
        let digit = NIX_BASE32.iter().position(|&d| d == c)? as u16;
        let b = n * 5;
        let (i, j) = (b / 8, b % 8);
        out[i] |= (digit << j) as u8;
        let carry = digit >> (8 - j);
        if i + 1 < size {
            out[i + 1] |= carry as u8;
        } else if carry != 0 {
            return None;
        }
    }
    Some(out)
}

fn encode_base16(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_base16(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by `nix hash path` and `nix-store --add-fixed --recursive sha256` (Nix 2.8) for a
    /// directory `source` holding one file `f` with the text `hi\n`; `crates/cli/tests/inputs.rs`
    /// compares many more trees with the real Nix.
    const NAR_HASH: &str = "sha256-MyEwKR7frLkJXyCTAYmhACAemt2h4EszAo04ltEu78o=";

    #[test]
    fn the_source_path_is_the_one_nix_adds() {
        let hash = parse_nar_hash(NAR_HASH).unwrap();
        assert_eq!(
            source_store_path(DEFAULT_STORE_DIR, &hash),
            "/nix/store/s1gbqa4hazf27kcgbjz2rc5mbjjl2n9j-source"
        );
        // Another store directory is part of the hash.
        assert_eq!(
            source_store_path("/tmp/nixt/s/store", &hash),
            "/tmp/nixt/s/store/pqh62030ajspmx9wbzhv4v1dci4sv51c-source"
        );
    }

    #[test]
    fn every_spelling_of_a_sha256_names_the_same_digest() {
        let hash = parse_nar_hash(NAR_HASH).unwrap();
        let hex = format!("sha256:{}", encode_base16(&hash));
        let nix32 = format!("sha256:{}", encode_nix_base32(&hash));
        assert_eq!(nix32.len(), "sha256:".len() + 52);
        let b64 = format!("sha256:{}", NAR_HASH.strip_prefix("sha256-").unwrap());
        for spelling in [hex, nix32, b64] {
            assert_eq!(parse_nar_hash(&spelling), Some(hash), "{spelling}");
        }
    }

    #[test]
    fn other_algorithms_and_broken_digests_are_unknown() {
        for text in [
            "",
            "sha512-MyEwKR7frLkJXyCTAYmhACAemt2h4EszAo04ltEu78o=",
            "sha256-not base64",
            "sha256-AAAA",
            "sha256:zz",
            "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            // 52 digits whose top bits overflow 32 bytes.
            "sha256:zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "md5:00",
        ] {
            assert_eq!(parse_nar_hash(text), None, "{text}");
        }
    }

    #[test]
    fn the_store_directory_is_canonicalised_as_nix_does() {
        assert_eq!(
            canonical_store_dir("/nix//store/").as_deref(),
            Some("/nix/store")
        );
        assert_eq!(
            canonical_store_dir("/a/./b/../store").as_deref(),
            Some("/a/store")
        );
        assert_eq!(canonical_store_dir("nix/store"), None);
    }
}
