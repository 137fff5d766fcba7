//! What a joint search over several devices (`search --table A --table B`) adds to a
//! single-device run: one latency objective per device and, when the devices' tables were
//! measured in different dtypes, one peak-memory objective per dtype (a model shipped in f16
//! holds half the bytes of the same model in f32, so one memory number cannot stand for both).
//! The extra objectives sit beside the first device's `latency_ms` and `peak_mem_mb`, and
//! results.csv holds them as `latency_ms@NAME` and `peak_mem_mb@DTYPE` columns.

use crate::mode::Mode;

/// The devices and memory dtypes of a run (both empty for a single-device run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Joint {
    /// Every device's name, the first being the first table's (empty: one device).
    pub devices: Vec<String>,
    /// Every dtype with its own peak-memory objective, the first being the first table's
    /// (empty: one memory objective, all tables measured in one dtype).
    pub memory_dtypes: Vec<String>,
}

impl Joint {
    pub fn single() -> Self {
        Joint::default()
    }

    /// Devices after the first: their latencies are [`crate::Evaluation::other_latency_ms`].
    pub fn other_devices(&self) -> usize {
        self.devices.len().saturating_sub(1)
    }

    /// Dtypes after the first: their peak memories are [`crate::Evaluation::other_peak_mem_mb`].
    pub fn other_memories(&self) -> usize {
        self.memory_dtypes.len().saturating_sub(1)
    }

    /// How many objectives a run minimises.
    pub fn objective_count(&self) -> usize {
        3 + self.other_devices() + self.other_memories()
    }

    /// The results.csv columns after the fixed ones: `latency_ms@NAME` of every device after the
    /// first, then `peak_mem_mb@DTYPE` of every dtype after the first.
    pub fn columns(&self) -> Vec<String> {
        let devices = self
            .devices
            .iter()
            .skip(1)
            .map(|d| format!("latency_ms@{d}"));
        let dtypes = (self.memory_dtypes.iter().skip(1)).map(|d| format!("peak_mem_mb@{d}"));
        devices.chain(dtypes).collect()
    }

    /// The names of the minimised objectives in vector order ([`crate::objectives`]): one
    /// `latency_ms@NAME` per device in place of `latency_ms`, one `peak_mem_mb@DTYPE` per dtype
    /// in place of `peak_mem_mb`.
    pub fn objective_names(&self, mode: Mode) -> Vec<String> {
        let each = |name: &str, of: &[String]| -> Vec<String> {
            if of.len() < 2 {
                vec![name.to_string()]
            } else {
                of.iter().map(|x| format!("{name}@{x}")).collect()
            }
        };
        mode.objective_names()
            .iter()
            .flat_map(|&n| match n {
                "latency_ms" => each(n, &self.devices),
                "peak_mem_mb" => each(n, &self.memory_dtypes),
                other => vec![other.to_string()],
            })
            .collect()
    }

    /// The run shape a results header holds (`found`: its columns after the fixed ones), so
    /// that [`Joint::columns`] gives its extra columns back. The first device and dtype have
    /// no column of their own (theirs are `latency_ms` and `peak_mem_mb`), so their names are
    /// left blank.
    pub fn from_columns(found: &[String]) -> Joint {
        let named = |prefix: &str, skip: usize| -> Vec<String> {
            found
                .iter()
                .skip(skip)
                .take_while(|c| c.starts_with(prefix))
                .map(|c| c[prefix.len()..].to_string())
                .collect()
        };
        let devices = named("latency_ms@", 0);
        let dtypes = named("peak_mem_mb@", devices.len());
        let with_first = |names: Vec<String>| -> Vec<String> {
            match names.is_empty() {
                true => Vec::new(),
                false => std::iter::once(String::new()).chain(names).collect(),
            }
        };
        Joint {
            devices: with_first(devices),
            memory_dtypes: with_first(dtypes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joint(devices: &[&str], dtypes: &[&str]) -> Joint {
        Joint {
            devices: devices.iter().map(|s| s.to_string()).collect(),
            memory_dtypes: dtypes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_single_device_run_adds_nothing() {
        let j = Joint::single();
        assert!(j.columns().is_empty());
        assert_eq!(
            j.objective_names(Mode::Score),
            ["score", "latency_ms", "peak_mem_mb"]
        );
        assert_eq!(j.objective_count(), 3);
    }

    #[test]
    fn devices_and_dtypes_each_add_objectives_and_columns() {
        let j = joint(&["phone", "laptop"], &["f16", "f32"]);
        assert_eq!(j.columns(), ["latency_ms@laptop", "peak_mem_mb@f32"]);
        assert_eq!(
            j.objective_names(Mode::PredictorOnly),
            [
                "latency_ms@phone",
                "latency_ms@laptop",
                "peak_mem_mb@f16",
                "peak_mem_mb@f32",
                "neg_temporal_params"
            ]
        );
        assert_eq!(j.objective_count(), 5);
        let found: Vec<String> = ["latency_ms@laptop", "peak_mem_mb@f32", "slot0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let read = Joint::from_columns(&found);
        assert_eq!(read, joint(&["", "laptop"], &["", "f32"]));
        assert_eq!(read.columns(), j.columns());
        assert_eq!(Joint::from_columns(&found[2..]), Joint::single());
    }
}
