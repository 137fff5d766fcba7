//! Safetensors files checked whole, with the `safetensors` crate's errors turned into sentences
//! that say what is wrong with the file (truncated, a pickle, a corrupt header) and how to make a
//! good one.

use std::path::Path;

use safetensors::tensor::{Dtype, Metadata};
use safetensors::{SafeTensorError, SafeTensors};

use crate::FileError;

/// How to make a valid file, appended to every message about a broken one.
pub const SAFETENSORS_FIX: &str = "re-export it with safetensors.torch.save_file";

/// Checks `bytes`, the whole file at `path`: the header and that its tensors cover the file
/// exactly. Returns the header's length and its contents (tensors and `__metadata__`); the error
/// names the file and says what is wrong with it.
pub fn safetensors_header(path: &Path, bytes: &[u8]) -> Result<(usize, Metadata), FileError> {
    SafeTensors::read_metadata(bytes).map_err(|e| FileError::new(path, describe(bytes, &e)))
}

/// As [`safetensors_header`], giving the tensors to read.
pub fn safetensors_views<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>, FileError> {
    SafeTensors::deserialize(bytes).map_err(|e| FileError::new(path, describe(bytes, &e)))
}

/// A sentence for a `safetensors` error on `bytes` (the whole file): truncation with the sizes
/// the header declares and the file has, a pickle instead of safetensors, or the header fault.
fn describe(bytes: &[u8], err: &SafeTensorError) -> String {
    const FIX: &str = SAFETENSORS_FIX;
    let len = bytes.len();
    if is_torch_save(bytes) {
        return "is a PyTorch pickle (torch.save, .bin or .ckpt), not a safetensors file; convert \
                it with safetensors.torch.save_file(torch.load(path), new_path)"
            .to_string();
    }
    let Some(head) = bytes.get(..8) else {
        return format!(
            "the file is truncated or not a safetensors file: it has {len} bytes, fewer than the \
             8-byte header length that starts every safetensors file; {FIX}"
        );
    };
    let mut n = [0u8; 8];
    n.copy_from_slice(head);
    let n = u64::from_le_bytes(n);
    let header = usize::try_from(n)
        .ok()
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?));
    match err {
        SafeTensorError::HeaderTooLarge
        | SafeTensorError::InvalidHeaderLength
        | SafeTensorError::HeaderTooSmall => format!(
            "the file is truncated or not a safetensors file: its first 8 bytes declare a \
             {n}-byte header but the file has {len} bytes; {FIX}"
        ),
        SafeTensorError::MetadataIncompleteBuffer => {
            let end = header.and_then(data_end).map(|e| 8 + n as u128 + e as u128);
            match end {
                Some(end) if (len as u128) < end => format!(
                    "the file is truncated: its header says {end} bytes but the file has {len}; \
                     copy it again or {FIX}"
                ),
                Some(end) => format!(
                    "the file has {} bytes after the tensors its header describes (the header \
                     says {end} bytes, the file has {len}); {FIX}",
                    len as u128 - end
                ),
                None => format!(
                    "the file is truncated or not a safetensors file: its tensors do not cover \
                     its {len} bytes; {FIX}"
                ),
            }
        }
        SafeTensorError::InvalidOffset(name) => format!(
            "the header is corrupt: tensor `{name}` does not start where the previous tensor \
             ends (data_offsets); {FIX}"
        ),
        SafeTensorError::TensorInvalidInfo => {
            let which = header.and_then(inconsistent_tensor).unwrap_or_default();
            format!(
                "the header is corrupt: {which}the dtype and shape do not match the byte range \
                 (data_offsets); {FIX}"
            )
        }
        SafeTensorError::ValidationOverflow => {
            format!("the header is corrupt: a tensor's shape is too large to address; {FIX}")
        }
        SafeTensorError::InvalidHeader
        | SafeTensorError::InvalidHeaderStart
        | SafeTensorError::InvalidHeaderDeserialization
        | SafeTensorError::JsonError(_) => {
            // Re-parse for the JSON error itself (e.g. an unknown dtype such as `C64`).
            let detail = header
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| serde_json::from_str::<Metadata>(h).err())
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            format!(
                "not a safetensors file: the {n}-byte header after the length is not safetensors \
                 JSON{detail}; {FIX}"
            )
        }
        other => format!("cannot read it as safetensors ({other}); {FIX}"),
    }
}

/// Whether `bytes` look like a `torch.save` file: a zip (`PK\x03\x04`) or, from old versions, a
/// raw pickle (0x80 PROTO, then protocol 2 to 5). Either prefix is also a header length a
/// safetensors file could start with (0x80 0x02 is a 640-byte header), so byte 8 decides: it
/// opens a safetensors header's JSON (`{`), a pickle's opcode stream (never `{`) or a zip's
/// compression method (0 or 8). Without a byte 8 a zip prefix still wins (as a header length it
/// is 67 MB), while 0x80 then 2..=5 (a common 640..1408-byte header) is left to the truncation
/// message, which holds for both.
pub fn is_torch_save(bytes: &[u8]) -> bool {
    let byte_8_is_json = bytes.get(8) == Some(&b'{');
    let zip = bytes.starts_with(b"PK\x03\x04");
    let pickle = bytes.first() == Some(&0x80) && matches!(bytes.get(1), Some(2..=5));
    !byte_8_is_json && (zip || (pickle && bytes.len() > 8))
}

/// The end of the data section the header describes: the largest `data_offsets` end.
fn data_end(header: &[u8]) -> Option<u64> {
    let json: serde_json::Value = serde_json::from_slice(header).ok()?;
    json.as_object()?
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .filter_map(|(_, v)| v.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .or(Some(0))
}

/// "tensor `x` (F32 [2, 3], 20 bytes): " for the first tensor whose byte range does not fit.
fn inconsistent_tensor(header: &[u8]) -> Option<String> {
    let meta: serde_json::Value = serde_json::from_slice(header).ok()?;
    meta.as_object()?.iter().find_map(|(name, v)| {
        let dtype: Dtype = serde_json::from_value(v.get("dtype")?.clone()).ok()?;
        let shape: Vec<u64> = serde_json::from_value(v.get("shape")?.clone()).ok()?;
        let offsets: Vec<u64> = serde_json::from_value(v.get("data_offsets")?.clone()).ok()?;
        let span = offsets.get(1)?.checked_sub(*offsets.first()?)?;
        let need = shape
            .iter()
            .try_fold(dtype.size() as u64, |a, &d| a.checked_mul(d));
        (need != Some(span))
            .then(|| format!("tensor `{name}` ({dtype:?} {shape:?}, {span} bytes): "))
    })
}

/// The index of the first NaN or infinite element of little-endian float `data`, read from the
/// bits so no tensor is built (an all-ones exponent is inf or NaN). Integer data is finite.
pub fn first_non_finite(dtype: Dtype, data: &[u8]) -> Option<usize> {
    match dtype {
        Dtype::F16 => data
            .chunks_exact(2)
            .position(|b| u16::from_le_bytes([b[0], b[1]]) & 0x7c00 == 0x7c00),
        Dtype::BF16 => data
            .chunks_exact(2)
            .position(|b| u16::from_le_bytes([b[0], b[1]]) & 0x7f80 == 0x7f80),
        Dtype::F32 => data
            .chunks_exact(4)
            .position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite()),
        Dtype::F64 => data.chunks_exact(8).position(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            !f64::from_le_bytes(a).is_finite()
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    /// A file of one tensor `t` with `__metadata__` {"k": "v"}.
    fn file(dtype: Dtype, shape: Vec<usize>, data: &[u8]) -> Vec<u8> {
        let view = TensorView::new(dtype, shape, data).unwrap();
        let meta = std::collections::HashMap::from([("k".to_string(), "v".to_string())]);
        safetensors::serialize([("t", view)], &Some(meta)).unwrap()
    }

    /// The message for `bytes`, after checking both entry points give it and name the file.
    fn err(bytes: &[u8]) -> String {
        let path = Path::new("x.safetensors");
        let e = safetensors_header(path, bytes).unwrap_err();
        assert_eq!(e.path, path);
        match safetensors_views(path, bytes) {
            Ok(_) => panic!("opened"),
            Err(views) => assert_eq!(views, e),
        }
        e.to_string()
    }

    /// A file whose header is `header`, followed by `data` bytes of zeros.
    fn raw(header: &[u8], data: usize) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.resize(bytes.len() + data, 0);
        bytes
    }

    #[test]
    fn reads_the_header_of_a_good_file() {
        let bytes = file(Dtype::F32, vec![2], &[0; 8]);
        let (_, meta) = safetensors_header(Path::new("x"), &bytes).unwrap();
        let m = meta.metadata().as_ref().unwrap();
        assert_eq!(m.get("k").map(String::as_str), Some("v"));
        let views = safetensors_views(Path::new("x"), &bytes).unwrap();
        assert_eq!(views.tensor("t").unwrap().shape(), [2]);
    }

    #[test]
    fn truncation_gives_both_sizes() {
        let bytes = file(Dtype::F32, vec![4], &[0; 16]);
        let full = bytes.len();
        let e = err(&bytes[..full - 5]);
        assert!(
            e.starts_with("x.safetensors: ")
                && e.contains(&format!(
                    "header says {full} bytes but the file has {}",
                    full - 5
                ))
                && e.contains(SAFETENSORS_FIX),
            "{e}"
        );
        let mut longer = bytes.clone();
        longer.extend_from_slice(b"junk");
        assert!(err(&longer).contains("4 bytes after the tensors"));
        // Cut inside the header.
        let e = err(&bytes[..20]);
        assert!(e.contains("truncated") && e.contains("has 20 bytes"), "{e}");
        assert!(err(&bytes[..3]).contains("has 3 bytes"));
        assert!(err(b"").contains("has 0 bytes"));
    }

    #[test]
    fn foreign_files_are_named_as_such() {
        assert!(err(b"PK\x03\x04 zip").contains("PyTorch pickle"));
        assert!(err(b"\x80\x02 pickle").contains("PyTorch pickle"));
        let e = err(&raw(b"not json !!!", 0));
        assert!(e.contains("not safetensors JSON"), "{e}");
        let e = err(&raw(
            br#"{"t":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#,
            8,
        ));
        assert!(e.contains("C64"), "{e}");
    }

    /// A good file whose 8-byte header length is `n` (so its first bytes read `n` in little
    /// endian), made by padding the metadata.
    fn file_with_header_len(n: u64) -> Vec<u8> {
        let data = [0u8; 16];
        (0..n as usize)
            .map(|pad| {
                let view = TensorView::new(Dtype::F32, vec![4], &data).unwrap();
                let meta = std::collections::HashMap::from([("k".to_string(), "v".repeat(pad))]);
                safetensors::serialize([("t", view)], &Some(meta)).unwrap()
            })
            .find(|b| b[..8] == n.to_le_bytes())
            .expect("some padding gives that header length")
    }

    #[test]
    fn a_truncated_file_whose_length_starts_0x80_is_truncated_not_a_pickle() {
        // 128 = 0x80; 640 = 0x80 0x02: the same first two bytes as a protocol-2 pickle.
        for n in [128u64, 640, 0x0580] {
            let bytes = file_with_header_len(n);
            assert_eq!(bytes[0], 0x80);
            assert_eq!(bytes[8], b'{');
            let full = bytes.len();
            let e = err(&bytes[..full - 5]);
            assert!(
                e.starts_with("x.safetensors: the file is truncated")
                    && e.contains(&format!(
                        "header says {full} bytes but the file has {}",
                        full - 5
                    ))
                    && e.contains(SAFETENSORS_FIX)
                    && !e.contains("pickle"),
                "{n}: {e}"
            );
            // Cut inside the header: the declared and the actual sizes.
            let e = err(&bytes[..40]);
            assert!(
                e.contains("truncated")
                    && e.contains(&format!("declare a {n}-byte header"))
                    && e.contains("has 40 bytes")
                    && !e.contains("pickle"),
                "{n}: {e}"
            );
        }
    }

    #[test]
    fn pickles_and_zips_are_still_named_as_such() {
        // pickle.dumps([], protocol=2) ... and torch.save's legacy magic number (LONG1).
        for bytes in [
            &b"\x80\x02]q\x00(K\x01K\x02e."[..],
            b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.",
            b"\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.",
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00archive/data.pkl",
        ] {
            let e = err(bytes);
            assert!(
                e.starts_with("x.safetensors: is a PyTorch pickle")
                    && e.contains("safetensors.torch.save_file"),
                "{bytes:?}: {e}"
            );
        }
        // 0x80 then no protocol byte: not a pickle, a file too short or with a corrupt header.
        let e = err(b"\x80\x00\x00\x00\x00\x00\x00\x00{");
        assert!(!e.contains("pickle") && e.contains("truncated"), "{e}");
        // Too short to tell a 640-byte header length from a pickle: truncated, with its size.
        let e = err(&file_with_header_len(640)[..6]);
        assert!(!e.contains("pickle") && e.contains("has 6 bytes"), "{e}");
    }

    #[test]
    fn a_corrupt_header_names_the_tensor() {
        let e = err(&raw(
            br#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            8,
        ));
        assert!(e.contains("tensor `t` (F32 [3], 8 bytes)"), "{e}");
        let e = err(&raw(
            br#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            12,
        ));
        assert!(e.contains("the header is corrupt"), "{e}");
    }

    #[test]
    fn finiteness_is_read_from_the_bits() {
        let f32s: Vec<u8> = [1.0f32, 2.0, f32::NAN]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(first_non_finite(Dtype::F32, &f32s), Some(2));
        assert_eq!(first_non_finite(Dtype::F32, &f32s[..8]), None);
        assert_eq!(first_non_finite(Dtype::BF16, &[0x80, 0x7f, 0, 0]), Some(0));
        assert_eq!(first_non_finite(Dtype::BF16, &[0, 0, 0x80, 0xff]), Some(1));
        assert_eq!(first_non_finite(Dtype::F16, &[0xff, 0x7b]), None);
        assert_eq!(
            first_non_finite(Dtype::F64, &f64::INFINITY.to_le_bytes()),
            Some(0)
        );
        assert_eq!(first_non_finite(Dtype::I64, &[0xff; 8]), None);
    }
}
