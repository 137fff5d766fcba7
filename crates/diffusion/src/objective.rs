//! What a run trains, typed: written to `run.json` and checkpoint states as one string
//! (`image`, `supernet:fair`, `standalone:<arch>`, `full:<arch>`) and read back once, here.

use serde::{Deserialize, Serialize};
use vidnas_nn::Build;
use vidnas_space::{Architecture, OpKind, Space};

/// How the supernet picks the path(s) one training step trains (the sampling itself lives
/// with the supernet trainer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PathSampling {
    /// One architecture drawn uniformly from the space per step (SPOS).
    Uniform,
    /// FairNAS-style: within each cycle every slot runs through all its ops in a random order,
    /// so every op of a slot is trained equally often.
    #[default]
    Fair,
    /// A uniform path plus the largest and the smallest architecture, gradients accumulated.
    Sandwich,
}

impl PathSampling {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uniform => "uniform",
            Self::Fair => "fair",
            Self::Sandwich => "sandwich",
        }
    }
}

impl std::str::FromStr for PathSampling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "uniform" => Ok(Self::Uniform),
            "fair" => Ok(Self::Fair),
            "sandwich" => Ok(Self::Sandwich),
            _ => Err(format!(
                "unknown path sampling `{s}`; use uniform, fair or sandwich"
            )),
        }
    }
}

/// What a run trains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Objective {
    /// Stage 1: the image model and the text encoder, on single frames.
    Image,
    /// The weight-sharing supernet: one or more sampled paths per step.
    Supernet(PathSampling),
    /// One architecture on its own, temporal layers only (a stand-alone reference).
    Standalone(Architecture),
    /// One architecture with every weight training, spatial ones included (the few-step
    /// teacher's fine-tune, when the image backbone is not already strong).
    Full(Architecture),
}

impl Objective {
    pub fn describe(&self) -> String {
        match self {
            Objective::Image => "image".into(),
            Objective::Supernet(s) => format!("supernet:{}", s.as_str()),
            Objective::Standalone(a) => format!("standalone:{}", a.encode()),
            Objective::Full(a) => format!("full:{}", a.encode()),
        }
    }

    /// The model this objective trains.
    pub fn build(&self) -> Build {
        match self {
            Objective::Image => Build::Image,
            Objective::Supernet(_) => Build::Supernet,
            Objective::Standalone(a) | Objective::Full(a) => Build::Subnet(a.clone()),
        }
    }

    /// Checks a recorded architecture against the space the run is loaded with.
    pub fn check(&self, space: &Space) -> Result<(), String> {
        match self {
            Objective::Standalone(a) | Objective::Full(a) => {
                space.check_arch(a).map_err(|e| format!("objective: {e}"))
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::str::FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let arch = |text: &str| -> Result<Architecture, String> {
            let ops = text
                .split('-')
                .map(|op| {
                    op.parse::<OpKind>()
                        .map_err(|e| format!("objective `{s}`: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Architecture { ops })
        };
        if s == "image" {
            Ok(Objective::Image)
        } else if let Some(sampling) = s.strip_prefix("supernet:") {
            Ok(Objective::Supernet(sampling.parse()?))
        } else if let Some(a) = s.strip_prefix("standalone:") {
            Ok(Objective::Standalone(arch(a)?))
        } else if let Some(a) = s.strip_prefix("full:") {
            Ok(Objective::Full(arch(a)?))
        } else {
            Err(format!(
                "objective `{s}` is not one of image, supernet:<sampling>, standalone:<arch>, full:<arch>; the file was not written by vidnas"
            ))
        }
    }
}

impl TryFrom<String> for Objective {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Objective> for String {
    fn from(o: Objective) -> String {
        o.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_objective_reads_back_as_written() {
        let arch = Architecture {
            ops: vec![OpKind::Conv1d, OpKind::None, OpKind::Attn3d],
        };
        for o in [
            Objective::Image,
            Objective::Supernet(PathSampling::Sandwich),
            Objective::Standalone(arch.clone()),
            Objective::Full(arch),
        ] {
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(
                serde_json::from_str::<Objective>(&json).unwrap(),
                o,
                "{json}"
            );
        }
        let err = serde_json::from_str::<Objective>("\"video\"").unwrap_err();
        assert!(err.to_string().contains("image, supernet"), "{err}");
        assert!("supernet:often".parse::<Objective>().is_err());
        assert!("standalone:conv9d".parse::<Objective>().is_err());
    }
}
