//! What the classifier says of a clip ([`Predicted`]), which parts of a label it got right
//! ([`Hits`]) and how often over many clips ([`Accuracy`]).

use serde::{Deserialize, Serialize};
use vidnas_data::{ClipLabel, Colour, Motion, Shape};

/// Fraction of clips classified right, per head and for all three at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accuracy {
    pub shape: f64,
    pub colour: f64,
    pub motion: f64,
    /// Shape, colour and motion all right.
    pub all: f64,
    pub clips: usize,
}

impl Accuracy {
    /// Chance level of each head (uniform guessing).
    pub fn chance() -> Accuracy {
        let (s, c, m) = (
            Shape::ALL.len() as f64,
            Colour::ALL.len() as f64,
            Motion::ALL.len() as f64,
        );
        Accuracy {
            shape: 1.0 / s,
            colour: 1.0 / c,
            motion: 1.0 / m,
            all: 1.0 / (s * c * m),
            clips: 0,
        }
    }

    /// Accuracy of `predicted` against `labels`.
    pub fn of(predicted: &[Predicted], labels: &[ClipLabel]) -> Accuracy {
        let hits: Vec<Hits> = predicted
            .iter()
            .zip(labels)
            .map(|(p, l)| p.hits(l))
            .collect();
        let n = hits.len().max(1) as f64;
        let frac = |f: fn(&Hits) -> bool| hits.iter().filter(|h| f(h)).count() as f64 / n;
        Accuracy {
            shape: frac(|h| h.shape),
            colour: frac(|h| h.colour),
            motion: frac(|h| h.motion),
            all: frac(Hits::all),
            clips: hits.len(),
        }
    }
}

/// The classes a classifier gave one clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predicted {
    pub shape: Shape,
    pub colour: Colour,
    pub motion: Motion,
}

/// Which parts of a label a prediction got right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    pub shape: bool,
    pub colour: bool,
    pub motion: bool,
}

impl Hits {
    pub fn all(&self) -> bool {
        self.shape && self.colour && self.motion
    }
}

impl Predicted {
    pub fn hits(&self, label: &ClipLabel) -> Hits {
        Hits {
            shape: self.shape == label.shape,
            colour: self.colour == label.colour,
            motion: self.motion == label.motion,
        }
    }

    /// The caption of what was recognised (may be one the generator cannot draw).
    pub fn caption(&self) -> String {
        ClipLabel {
            shape: self.shape,
            colour: self.colour,
            motion: self.motion,
        }
        .caption()
    }
}
