//! What a run was asked to do: [`SearchConfig`] (the caller's request) and [`RunSettings`] (what
//! `run.json` records at the start, checked field by field on `--resume` and on merge).

use crate::budget::Budgets;
use crate::error::SearchError;
use crate::joint::Joint;
use crate::mode::Mode;
use crate::settings_diff::first_difference;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vidnas_io::FileRef;
use vidnas_space::Space;

/// `format` of run.json.
pub const RUN_FORMAT: &str = "vidnas-search-run/1";

/// NSGA-II settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nsga2Params {
    /// Population size N; each generation scores N children.
    pub population: usize,
    /// Generations after the initial population (so at most N·(G+1) evaluations).
    pub generations: usize,
    /// Probability that a child comes from crossover (else a copy of its first parent).
    pub crossover_prob: f64,
    /// Per-slot mutation probability; `None` = 1 / number of slots.
    pub mutation_rate: Option<f64>,
}

impl Default for Nsga2Params {
    fn default() -> Self {
        Nsga2Params {
            population: 32,
            generations: 20,
            crossover_prob: 0.9,
            mutation_rate: None,
        }
    }
}

/// Single-objective evolution (OFA-style) settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvolutionParams {
    pub population: usize,
    pub generations: usize,
    /// The top fraction of the population kept as parents.
    pub parent_fraction: f64,
    /// Fraction of children made by mutation; the rest by crossover.
    pub mutation_fraction: f64,
    /// Per-slot mutation probability; `None` = 1 / number of slots.
    pub mutation_rate: Option<f64>,
}

impl Default for EvolutionParams {
    fn default() -> Self {
        EvolutionParams {
            population: 32,
            generations: 20,
            parent_fraction: 0.25,
            mutation_fraction: 0.5,
            mutation_rate: None,
        }
    }
}

/// Surrogate-assisted NSGA-II settings (`search --surrogate`): the supernet scores a random
/// warm-up, then every generation NSGA-II runs on the surrogate's predictions and the supernet
/// scores the predicted front (up to the outer population), and the surrogate is refitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurrogateParams {
    /// Supernet-scored uniform samples before the first fit.
    pub warmup: usize,
    /// NSGA-II population on surrogate scores, each generation.
    pub inner_population: usize,
    /// NSGA-II generations on surrogate scores, each generation.
    pub inner_generations: usize,
}

impl Default for SurrogateParams {
    fn default() -> Self {
        SurrogateParams {
            warmup: 32,
            inner_population: 100,
            inner_generations: 20,
        }
    }
}

/// The search algorithm and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Algo {
    /// Every architecture of the space, `batch` per evaluator call.
    Exhaustive {
        batch: usize,
    },
    /// `samples` distinct uniform draws, `batch` per evaluator call.
    Random {
        samples: usize,
        batch: usize,
    },
    Nsga2(Nsga2Params),
    Evolution(EvolutionParams),
    /// NSGA-II whose inner loop runs on a surrogate of the supernet score; `nsga2.population`
    /// architectures of each generation's predicted front go to the supernet.
    SurrogateNsga2 {
        nsga2: Nsga2Params,
        surrogate: SurrogateParams,
    },
}

impl Algo {
    pub fn name(&self) -> &'static str {
        match self {
            Algo::Exhaustive { .. } => "exhaustive",
            Algo::Random { .. } => "random",
            Algo::Nsga2(_) => "nsga2",
            Algo::Evolution(_) => "evolution",
            Algo::SurrogateNsga2 { .. } => "surrogate_nsga2",
        }
    }
}

/// Take every `count`-th candidate starting at `index` (a shard of an exhaustive or random run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `i/n` with `0 <= i < n`; the message says what is wrong and the expected form (a CLI
    /// prefixes it with the flag).
    fn from_str(text: &str) -> Result<Self, String> {
        let form = "write --shard i/n with 0 <= i < n, e.g. 0/4";
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("no `/`; {form}"))?;
        let whole = |v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{}` is not a whole number; {form}", v.trim()))
        };
        let (index, count) = (whole(i)?, whole(n)?);
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count} does not exist; {form}"));
        }
        Ok(Shard { index, count })
    }
}

/// Parses a hypervolume reference point: three finite comma-separated numbers, one per
/// minimised objective ([`Mode::objective_names`]).
pub fn parse_hv_reference(text: &str) -> Result<Vec<f64>, String> {
    let form = "write --hv-ref a,b,c: three finite numbers, one per minimised objective \
                (score,latency_ms,peak_mem_mb with a supernet, \
                latency_ms,peak_mem_mb,neg_temporal_params without), e.g. 0.2,80,500";
    let values = text
        .split(',')
        .map(|v| match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(format!("`{}` is not a finite number; {form}", v.trim())),
        })
        .collect::<Result<Vec<f64>, String>>()?;
    // A joint search over k devices has k latency objectives, and one memory objective per
    // dtype of its tables (checked against the run).
    if !(3..=7).contains(&values.len()) {
        return Err(format!("{} value(s) given; {form}", values.len()));
    }
    Ok(values)
}

/// What the caller asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    pub algo: Algo,
    pub seed: u64,
    pub budgets: Budgets,
    pub shard: Option<Shard>,
    /// Hypervolume reference point (minimised objectives, see [`Mode::objective_names`]);
    /// `None` = derived from the first generation, see [`crate::reference_from`].
    pub hv_reference: Option<Vec<f64>>,
    /// The latency table the evaluator predicts with (`None`: an evaluator without a table
    /// file, as in tests and benchmarks).
    pub table: Option<FileRef>,
    /// The supernet that scores: its run folder, with the SHA-256 of its `model.safetensors`
    /// (`None` in predictor-only mode).
    pub supernet: Option<FileRef>,
    /// A joint search over several devices: every device's name, the first being `table`'s
    /// (empty for a single-device search). The evaluator gives one latency per device.
    pub devices: Vec<String>,
    /// The tables of the devices after the first, in order.
    pub other_tables: Vec<FileRef>,
    /// A joint search whose tables differ in dtype: each dtype once, the first table's first
    /// (empty when all tables share one). The evaluator gives one peak memory per dtype.
    pub memory_dtypes: Vec<String>,
}

impl SearchConfig {
    /// The run's devices and memory dtypes.
    pub fn joint(&self) -> Joint {
        Joint {
            devices: self.devices.clone(),
            memory_dtypes: self.memory_dtypes.clone(),
        }
    }
}

/// The space a run searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceRef {
    pub name: String,
    pub hash: String,
    pub num_slots: usize,
    /// Number of valid architectures (decimal text: it can exceed 2^64).
    pub size: String,
}

/// The hypervolume reference point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HvReference {
    /// Given by the user (true) or derived from the first generation (false).
    pub given: bool,
    /// `None` until the first generation is scored when derived.
    pub point: Option<Vec<f64>>,
}

/// run.json: the settings of a run, written atomically at the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    pub format: String,
    pub algo: Algo,
    pub seed: u64,
    pub budgets: Budgets,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    pub space: SpaceRef,
    /// See [`SearchConfig::table`]. Run folders written before it was typed hold
    /// `"table_id": "PATH (HASH)"`, which reads as the same path and hash.
    #[serde(alias = "table_id", deserialize_with = "file_ref_or_legacy")]
    pub table: Option<FileRef>,
    /// See [`SearchConfig::supernet`] (formerly `"supernet_id": "PATH (HASH)"`).
    #[serde(alias = "supernet_id", deserialize_with = "file_ref_or_legacy")]
    pub supernet: Option<FileRef>,
    pub mode: Mode,
    /// See [`SearchConfig::devices`] (absent: a single-device run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// See [`SearchConfig::other_tables`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_tables: Vec<FileRef>,
    /// See [`SearchConfig::memory_dtypes`] (absent: one memory objective).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory_dtypes: Vec<String>,
    /// Names of the minimised objectives, in the order of the reference point.
    pub objectives: Vec<String>,
    pub hv_reference: HvReference,
    /// For a merged run: the shard folders it was made from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// The folder the relative paths above are relative to (where the search ran), itself
    /// relative to the run folder (`../..`; absolute when the two share no folder but the
    /// root). Read the paths through [`RunSettings::table_file`] and
    /// [`RunSettings::supernet_folder`], which find them from any working folder. Never compared
    /// on resume or merge; absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<PathBuf>,
}

impl RunSettings {
    pub fn new(config: &SearchConfig, space: &Space, mode: Mode) -> Self {
        RunSettings {
            format: RUN_FORMAT.into(),
            algo: config.algo.clone(),
            seed: config.seed,
            budgets: config.budgets,
            shard: config.shard,
            space: SpaceRef {
                name: space.name().into(),
                hash: space.hash().into(),
                num_slots: space.num_slots(),
                size: space.count().to_string(),
            },
            table: config.table.clone(),
            supernet: config.supernet.clone(),
            mode,
            devices: config.devices.clone(),
            other_tables: config.other_tables.clone(),
            memory_dtypes: config.memory_dtypes.clone(),
            objectives: config.joint().objective_names(mode),
            hv_reference: HvReference {
                given: config.hv_reference.is_some(),
                point: config.hv_reference.clone(),
            },
            merged_from: Vec::new(),
            working_dir: None,
        }
    }

    /// `path`, recorded in `field` of `run_dir/run.json`, found from the current folder (see
    /// [`vidnas_io::resolve_recorded`]); `flag` gives it on the command line instead.
    pub fn resolve(
        &self,
        run_dir: &Path,
        field: &str,
        path: &Path,
        flag: Option<&str>,
    ) -> Result<PathBuf, SearchError> {
        let working_dir = self.working_dir.as_deref();
        Ok(vidnas_io::resolve_in_run(
            run_dir,
            working_dir,
            field,
            path,
            flag,
        )?)
    }

    /// The latency table the run predicted with (`table.path`; `None` when it records none),
    /// from any working folder.
    pub fn table_file(&self, run_dir: &Path) -> Result<Option<PathBuf>, SearchError> {
        self.table
            .as_ref()
            .map(|t| self.resolve(run_dir, "table.path", &t.path, Some("--table")))
            .transpose()
    }

    /// The supernet run (or few-shot folder) that scored (`supernet.path`; `None` for a
    /// predictor-only run), from any working folder.
    pub fn supernet_folder(&self, run_dir: &Path) -> Result<Option<PathBuf>, SearchError> {
        self.supernet
            .as_ref()
            .map(|s| self.resolve(run_dir, "supernet.path", &s.path, Some("--supernet")))
            .transpose()
    }

    /// The run's devices and memory dtypes (both empty for a single-device run).
    pub fn joint(&self) -> Joint {
        Joint {
            devices: self.devices.clone(),
            memory_dtypes: self.memory_dtypes.clone(),
        }
    }

    /// Checks that `requested` repeats these recorded settings. A derived reference point,
    /// `working_dir` and the fields in `ignore` (top-level names) are not compared.
    pub fn check_same(
        &self,
        path: &Path,
        requested: &RunSettings,
        ignore: &[&str],
    ) -> Result<(), SearchError> {
        let mut a = serde_json::to_value(self).expect("settings serialise");
        let mut b = serde_json::to_value(requested).expect("settings serialise");
        for v in [&mut a, &mut b] {
            let obj = v.as_object_mut().expect("settings are an object");
            for key in ignore.iter().chain(&["working_dir"]) {
                obj.remove(*key);
            }
            if let Some(hv) = obj.get_mut("hv_reference") {
                if hv["given"] == false {
                    hv["point"] = serde_json::Value::Null;
                }
            }
        }
        match first_difference("", &a, &b) {
            None => Ok(()),
            Some((field, recorded, requested)) => Err(SearchError::SettingsMismatch {
                path: path.to_path_buf(),
                field,
                recorded,
                requested,
            }),
        }
    }
}

/// A provenance field: `{"path": …, "sha256": …}`, null, or the string `"PATH (HASH)"` that
/// run.json held before the fields were typed (a string without ` (HASH)` is all path).
fn file_ref_or_legacy<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<FileRef>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Typed(FileRef),
        Legacy(String),
    }
    Ok(
        Option::<Form>::deserialize(deserializer)?.map(|form| match form {
            Form::Typed(file) => file,
            Form::Legacy(text) => {
                let (path, sha256) = text
                    .strip_suffix(')')
                    .and_then(|t| t.rsplit_once(" ("))
                    .unwrap_or((text.as_str(), ""));
                FileRef {
                    path: path.into(),
                    sha256: sha256.into(),
                }
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_or_say_the_expected_form() {
        assert_eq!("1/4".parse(), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(" 0 / 2 ".parse(), Ok(Shard { index: 0, count: 2 }));
        for (text, why) in [
            ("a/b", "`a` is not a whole number"),
            ("3", "no `/`"),
            ("4/4", "shard 4/4 does not exist"),
            ("0/0", "shard 0/0 does not exist"),
            ("-1/4", "`-1` is not a whole number"),
        ] {
            let msg = text.parse::<Shard>().unwrap_err();
            assert!(msg.starts_with(why), "{text}: {msg}");
            assert!(
                msg.ends_with("--shard i/n with 0 <= i < n, e.g. 0/4"),
                "{msg}"
            );
        }
    }

    #[test]
    fn provenance_reads_typed_and_legacy_fields() {
        let settings = |table: &str, supernet: &str| {
            let text = format!(
                r#"{{"format": "{RUN_FORMAT}", "algo": {{"name": "exhaustive", "batch": 8}},
                "seed": 0, "budgets": {{"latency_ms": null, "memory_mb": null}},
                "space": {{"name": "s", "hash": "h", "num_slots": 1, "size": "2"}},
                {table}, {supernet}, "mode": "score", "objectives": [],
                "hv_reference": {{"given": false, "point": null}}}}"#
            );
            serde_json::from_str::<RunSettings>(&text).unwrap()
        };
        let file = |path: &str, sha256: &str| {
            Some(FileRef {
                path: path.into(),
                sha256: sha256.into(),
            })
        };
        let legacy = settings(
            r#""table_id": "runs/t (x1) (0123abcd)""#,
            r#""supernet_id": "runs/s (89ab)""#,
        );
        assert_eq!(legacy.table, file("runs/t (x1)", "0123abcd"));
        assert_eq!(legacy.supernet, file("runs/s", "89ab"));
        let label = settings(r#""table_id": "bench""#, r#""supernet_id": null"#);
        assert_eq!((label.table, label.supernet), (file("bench", ""), None));
        let typed = settings(
            r#""table": {"path": "t.json", "sha256": "ff"}"#,
            r#""supernet": null"#,
        );
        assert_eq!(typed.table, file("t.json", "ff"));
        let text = serde_json::to_string(&typed).unwrap();
        assert!(text.contains(r#""table":{"path":"t.json","sha256":"ff"},"supernet":null"#));
        assert_eq!(serde_json::from_str::<RunSettings>(&text).unwrap(), typed);
    }

    #[test]
    fn recorded_paths_are_found_from_another_working_folder() {
        // A search made in `project` (`--table tables/t.json --out runs/s`), read from elsewhere:
        // this test runs in the crate's folder, which holds no `tables/t.json`.
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        let run_dir = project.join("runs/s");
        std::fs::create_dir_all(project.join("tables")).unwrap();
        std::fs::create_dir_all(&run_dir).unwrap();
        std::fs::write(project.join("tables/t.json"), "{}").unwrap();
        assert!(!Path::new("tables/t.json").exists());
        let text = format!(
            r#"{{"format": "{RUN_FORMAT}", "algo": {{"name": "exhaustive", "batch": 8}},
            "seed": 0, "budgets": {{"latency_ms": null, "memory_mb": null}},
            "space": {{"name": "s", "hash": "h", "num_slots": 1, "size": "2"}},
            "table": {{"path": "tables/t.json", "sha256": "ff"}},
            "supernet": {{"path": "runs/supernet", "sha256": "ee"}},
            "mode": "score", "objectives": [],
            "hv_reference": {{"given": false, "point": null}}, "working_dir": "../.."}}"#
        );
        std::fs::write(run_dir.join("run.json"), text).unwrap();
        let settings: RunSettings = vidnas_io::read_json(&run_dir.join("run.json")).unwrap();
        assert_eq!(settings.working_dir.as_deref(), Some(Path::new("../..")));
        let table = settings.table_file(&run_dir).unwrap().unwrap();
        assert_eq!(
            table.canonicalize().unwrap(),
            project.join("tables/t.json").canonicalize().unwrap()
        );
        // The supernet run is gone: the message says where it looked and what to do.
        let msg = settings.supernet_folder(&run_dir).unwrap_err().to_string();
        for part in [
            "run.json",
            "field `supernet.path`",
            "`runs/supernet` is a relative path",
            "current folder",
            "the folder the run was made in",
            "the run folder",
            "pass the path with --supernet",
        ] {
            assert!(msg.contains(part), "`{part}` missing from: {msg}");
        }
        // Resuming from another folder records another working folder: not a changed setting.
        let moved = RunSettings {
            working_dir: Some("..".into()),
            ..settings.clone()
        };
        settings
            .check_same(Path::new("run.json"), &moved, &[])
            .unwrap();
    }

    #[test]
    fn hv_references_need_three_finite_numbers() {
        assert_eq!(parse_hv_reference("0.2, 80,-3"), Ok(vec![0.2, 80.0, -3.0]));
        for (text, why) in [
            ("1,2", "2 value(s) given"),
            ("1,NaN,2", "`NaN` is not a finite number"),
            ("1,,2", "`` is not a finite number"),
        ] {
            let msg = parse_hv_reference(text).unwrap_err();
            assert!(
                msg.starts_with(why) && msg.contains("--hv-ref a,b,c"),
                "{msg}"
            );
        }
    }
}
