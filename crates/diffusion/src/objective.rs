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
    /// Sandwich with in-place distillation (OFA, BigNAS): the largest path learns from the
    /// data; the uniform and the smallest path learn to match its prediction (detached), a
    /// less noisy target than the sampled noise.
    Inplace,
}

impl PathSampling {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uniform => "uniform",
            Self::Fair => "fair",
            Self::Sandwich => "sandwich",
            Self::Inplace => "inplace",
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
            "inplace" => Ok(Self::Inplace),
            _ => Err(format!(
                "unknown path sampling `{s}`; use uniform, fair, sandwich or inplace"
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
    /// One sub-supernet of a few-shot supernet: the paths hold the given op at each given slot
    /// (`supernet:fair@3=conv1d,7=none`), so it trains and scores that region of the space.
    SubSupernet(PathSampling, Vec<(usize, OpKind)>),
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
            Objective::SubSupernet(s, fixed) => {
                let fixed: Vec<String> = fixed.iter().map(|(i, op)| format!("{i}={op}")).collect();
                format!("supernet:{}@{}", s.as_str(), fixed.join(","))
            }
            Objective::Standalone(a) => format!("standalone:{}", a.encode()),
            Objective::Full(a) => format!("full:{}", a.encode()),
        }
    }

    /// The model this objective trains.
    pub fn build(&self) -> Build {
        match self {
            Objective::Image => Build::Image,
            Objective::Supernet(_) | Objective::SubSupernet(..) => Build::Supernet,
            Objective::Standalone(a) | Objective::Full(a) => Build::Subnet(a.clone()),
        }
    }

    /// Checks a recorded architecture against the space the run is loaded with.
    pub fn check(&self, space: &Space) -> Result<(), String> {
        match self {
            Objective::Standalone(a) | Objective::Full(a) => {
                space.check_arch(a).map_err(|e| format!("objective: {e}"))
            }
            Objective::SubSupernet(_, fixed) => space
                .narrowed(fixed)
                .map(|_| ())
                .map_err(|e| format!("objective: {e}")),
            _ => Ok(()),
        }
    }

    /// How a supernet or sub-supernet samples its paths.
    pub fn sampling(&self) -> Option<PathSampling> {
        match self {
            Objective::Supernet(s) | Objective::SubSupernet(s, _) => Some(*s),
            _ => None,
        }
    }

    /// The slots and ops a sub-supernet is fixed to (empty for any other objective).
    pub fn region(&self) -> &[(usize, OpKind)] {
        match self {
            Objective::SubSupernet(_, fixed) => fixed,
            _ => &[],
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
        } else if let Some(rest) = s.strip_prefix("supernet:") {
            let Some((sampling, fixed)) = rest.split_once('@') else {
                return Ok(Objective::Supernet(rest.parse()?));
            };
            let fixed = fixed
                .split(',')
                .map(|item| {
                    let (slot, op) = item.split_once('=').ok_or_else(|| {
                        format!("objective `{s}`: `{item}` is not slot=op, e.g. 3=conv1d")
                    })?;
                    let slot = slot
                        .parse::<usize>()
                        .map_err(|_| format!("objective `{s}`: `{slot}` is not a slot index"))?;
                    let op = op
                        .parse::<OpKind>()
                        .map_err(|e| format!("objective `{s}`: {e}"))?;
                    Ok((slot, op))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Objective::SubSupernet(sampling.parse()?, fixed))
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
            Objective::Supernet(PathSampling::Inplace),
            Objective::SubSupernet(
                PathSampling::Fair,
                vec![(3, OpKind::Conv1d), (7, OpKind::None)],
            ),
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
        assert_eq!(
            Objective::SubSupernet(PathSampling::Fair, vec![(3, OpKind::Conv1d)]).describe(),
            "supernet:fair@3=conv1d"
        );
        assert!("supernet:fair@3".parse::<Objective>().is_err());
        assert!("supernet:fair@x=conv1d".parse::<Objective>().is_err());
        assert!("standalone:conv9d".parse::<Objective>().is_err());
    }
}
