//! A data set of same-shaped clips: procedural (generated on demand, nothing stored) or loaded
//! (real footage held in memory), with a fixed validation split and resumable batch order.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::clip::Clip;
use crate::error::{DataError, Result};
use crate::label::ClipLabel;
use crate::procedural::{generate, ProceduralConfig};

/// First clip index of procedural validation sets. Training uses indices from 0, and the clip
/// generator keys its random stream with the index itself, so train and validation clips can
/// never coincide (a training set would need 2^63 clips to reach this index).
pub const VALIDATION_INDEX_OFFSET: u64 = 1 << 63;

/// Clips of one shape.
#[derive(Debug, Clone)]
pub struct Dataset {
    shape: ProceduralConfig,
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    /// Clips `first_index .. first_index + len` of generator stream `seed`.
    Procedural {
        seed: u64,
        first_index: u64,
        len: usize,
    },
    /// Loaded clips.
    Clips(Vec<Clip>),
}

/// Clips stacked for a model: pixels `[B, C, T, H, W]` in [-1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `[B, C, T, H, W]`.
    pub shape: [usize; 5],
    /// Pixel values, clips one after another.
    pub pixels: Vec<f32>,
    /// One caption per clip.
    pub captions: Vec<String>,
    /// One label per clip (`None` for real footage).
    pub labels: Vec<Option<ClipLabel>>,
}

impl Dataset {
    /// `len` procedural training clips of stream `seed` (indices `0..len`).
    pub fn procedural(cfg: ProceduralConfig, seed: u64, len: usize) -> Result<Self> {
        Self::procedural_from(cfg, seed, 0, len)
    }

    /// `len` procedural validation clips of stream `seed`, disjoint from every training clip of
    /// any length (see [`VALIDATION_INDEX_OFFSET`]).
    pub fn procedural_validation(cfg: ProceduralConfig, seed: u64, len: usize) -> Result<Self> {
        Self::procedural_from(cfg, seed, VALIDATION_INDEX_OFFSET, len)
    }

    fn procedural_from(
        cfg: ProceduralConfig,
        seed: u64,
        first_index: u64,
        len: usize,
    ) -> Result<Self> {
        cfg.validate()?;
        if len == 0 {
            return Err(DataError::EmptyDataset {
                hint: "ask for at least one procedural clip",
            });
        }
        Ok(Dataset {
            shape: cfg,
            source: Source::Procedural {
                seed,
                first_index,
                len,
            },
        })
    }

    /// Loaded clips, which must all have the first clip's shape.
    pub fn from_clips(clips: Vec<Clip>) -> Result<Self> {
        let first = clips.first().ok_or(DataError::EmptyDataset {
            hint: "the clip list is empty; load at least one clip",
        })?;
        let shape = ProceduralConfig {
            frames: first.frames,
            height: first.height,
            width: first.width,
            channels: first.channels,
        };
        // Loaded clips may be latents (any channel count, small maps), so only emptiness is
        // checked here; pixel loaders check their own shape.
        if shape.clip_len() == 0 {
            return Err(DataError::EmptyDataset {
                hint: "clip 0 has no values; check the clip shape",
            });
        }
        for (i, c) in clips.iter().enumerate() {
            if c.shape() != first.shape() || c.pixels.len() != shape.clip_len() {
                return Err(DataError::ShapeMismatch {
                    what: format!("clip {i} (\"{}\")", c.caption),
                    expected: format!("[C, T, H, W] = {:?} like clip 0", first.shape()),
                    found: format!("{:?} with {} values", c.shape(), c.pixels.len()),
                });
            }
        }
        Ok(Dataset {
            shape,
            source: Source::Clips(clips),
        })
    }

    /// The shape every clip has.
    pub fn shape(&self) -> ProceduralConfig {
        self.shape
    }

    /// Number of clips.
    pub fn len(&self) -> usize {
        match &self.source {
            Source::Procedural { len, .. } => *len,
            Source::Clips(c) => c.len(),
        }
    }

    /// Always false: constructors reject empty sets.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Clip `i`; procedural clips are generated now.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn get(&self, i: usize) -> Clip {
        assert!(
            i < self.len(),
            "clip {i} out of range: the data set has {} clips",
            self.len()
        );
        match &self.source {
            Source::Procedural {
                seed, first_index, ..
            } => generate(&self.shape, *seed, first_index + i as u64),
            Source::Clips(c) => c[i].clone(),
        }
    }

    /// Splits off `val_len` validation clips.
    ///
    /// Procedural: the training set is unchanged and validation is
    /// [`Dataset::procedural_validation`] of the same stream, so the two never share a clip.
    /// Loaded: `val_len` clips spread evenly over the set (folders often sort by topic) move to
    /// validation and the rest stay for training.
    pub fn split(self, val_len: usize) -> Result<(Dataset, Dataset)> {
        if val_len == 0 {
            return Err(DataError::EmptyDataset {
                hint: "ask for at least one validation clip",
            });
        }
        match self.source {
            Source::Procedural {
                seed,
                first_index,
                len,
            } => {
                if first_index == VALIDATION_INDEX_OFFSET {
                    return Err(DataError::EmptyDataset {
                        hint: "this is already a validation set; split the training set instead",
                    });
                }
                let val = Self::procedural_validation(self.shape, seed, val_len)?;
                let train = Dataset {
                    shape: self.shape,
                    source: Source::Procedural {
                        seed,
                        first_index,
                        len,
                    },
                };
                Ok((train, val))
            }
            Source::Clips(clips) => {
                let n = clips.len();
                if val_len >= n {
                    return Err(DataError::EmptyDataset {
                        hint: "the validation split would take every clip; ask for fewer validation clips or add footage",
                    });
                }
                // Centres of val_len equal strides: distinct because n > val_len.
                let picked: Vec<usize> = (0..val_len)
                    .map(|k| ((2 * k + 1) * n) / (2 * val_len))
                    .collect();
                let (mut train, mut val) = (Vec::new(), Vec::new());
                for (i, c) in clips.into_iter().enumerate() {
                    if picked.binary_search(&i).is_ok() {
                        val.push(c);
                    } else {
                        train.push(c);
                    }
                }
                Ok((Self::from_clips(train)?, Self::from_clips(val)?))
            }
        }
    }

    /// Clip indices of training step `step`.
    ///
    /// Epochs visit every clip once, each in an order fixed by `(seed, epoch)`; step `s` takes
    /// positions `s * batch_size ..` of those concatenated epochs. The result depends only on
    /// `(seed, step, batch_size, len)`, so a resumed run sees exactly the batches it would have.
    pub fn batch_indices(&self, step: u64, batch_size: usize, seed: u64) -> Vec<usize> {
        let n = self.len() as u64;
        let start = step * batch_size as u64;
        let mut out = Vec::with_capacity(batch_size);
        let mut cached: Option<(u64, Vec<usize>)> = None;
        for pos in start..start + batch_size as u64 {
            let epoch = pos / n;
            if cached.as_ref().map(|(e, _)| *e) != Some(epoch) {
                cached = Some((epoch, epoch_order(self.len(), seed, epoch)));
            }
            let order = &cached.as_ref().expect("just filled").1;
            out.push(order[(pos % n) as usize]);
        }
        out
    }

    /// The clips at `indices`, stacked.
    pub fn batch(&self, indices: &[usize]) -> Batch {
        let s = self.shape;
        let mut pixels = Vec::with_capacity(indices.len() * s.clip_len());
        let (mut captions, mut labels) = (Vec::new(), Vec::new());
        for &i in indices {
            let clip = self.get(i);
            pixels.extend_from_slice(&clip.pixels);
            captions.push(clip.caption);
            labels.push(clip.label);
        }
        Batch {
            shape: [indices.len(), s.channels, s.frames, s.height, s.width],
            pixels,
            captions,
            labels,
        }
    }
}

/// A permutation of `0..n` fixed by `(seed, epoch)`.
fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&epoch.to_le_bytes());
    key[16..31].copy_from_slice(b"vidnas-batch-v1");
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::from_seed(key));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_cover_every_clip_once() {
        let ds = Dataset::procedural(ProceduralConfig::default(), 1, 10).unwrap();
        // Batch size 4 does not divide 10: batches straddle epochs.
        let seen: Vec<usize> = (0..5).flat_map(|s| ds.batch_indices(s, 4, 7)).collect();
        let mut first = seen[..10].to_vec();
        first.sort();
        assert_eq!(first, (0..10).collect::<Vec<_>>());
        let mut second = seen[10..20].to_vec();
        second.sort();
        assert_eq!(second, (0..10).collect::<Vec<_>>());
        assert_ne!(seen[..10], seen[10..20], "epochs should be reshuffled");
    }

    #[test]
    fn clip_split_is_even_and_disjoint() {
        let clips: Vec<Clip> = (0..10)
            .map(|i| Clip::new(1, 3, 8, 8, vec![0.0; 192], format!("clip {i}"), None).unwrap())
            .collect();
        let (train, val) = Dataset::from_clips(clips).unwrap().split(3).unwrap();
        assert_eq!((train.len(), val.len()), (7, 3));
        let val_caps: Vec<String> = (0..3).map(|i| val.get(i).caption).collect();
        assert_eq!(val_caps, ["clip 1", "clip 5", "clip 8"]);
    }
}
