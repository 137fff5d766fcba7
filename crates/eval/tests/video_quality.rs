//! `video_quality_with` takes any [`VideoFeatures`] extractor: here one a user might write in a
//! few lines (the mean of every channel in every frame).

mod common;

use tch::{Device, Kind, Tensor};
use vidnas_data::{Clip, ProceduralConfig};
use vidnas_eval::{video_quality_with, QualityRequest, QualitySettings, Result, VideoFeatures};

/// Mean of each channel of each frame: `C·T` features.
struct FrameMeans(ProceduralConfig);

impl VideoFeatures for FrameMeans {
    fn name(&self) -> String {
        "frame means".into()
    }
    fn dim(&self) -> usize {
        self.0.channels * self.0.frames
    }
    fn clip_shape(&self) -> ProceduralConfig {
        self.0
    }
    fn features(&self, clips: &[Clip]) -> Result<Tensor> {
        let hw = self.0.height * self.0.width;
        let v: Vec<f64> = clips
            .iter()
            .flat_map(|c| c.pixels.chunks(hw))
            .map(|plane| plane.iter().map(|&p| f64::from(p)).sum::<f64>() / hw as f64)
            .collect();
        Ok(Tensor::from_slice(&v)
            .view([clips.len() as i64, self.dim() as i64])
            .to_kind(Kind::Double))
    }
}

fn request<'a>(
    config: &'a std::path::Path,
    classifier: &'a std::path::Path,
    out: &'a std::path::Path,
) -> QualityRequest<'a> {
    QualityRequest {
        config,
        weights: None,
        classifier,
        out,
        settings: QualitySettings {
            generated: 4,
            real: 5,
            steps: 2,
            pca_dims: 3,
            bootstrap: 10,
            ..QualitySettings::default()
        },
        command: "vidnas eval quality (test)".into(),
        progress: false,
        device: Device::Cpu,
    }
}

#[test]
fn a_user_extractor_feeds_the_frechet_distance() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _, _) = common::exported(dir.path());
    let classifier = common::micro_classifier(dir.path());
    let out = dir.path().join("quality");
    let extractor = FrameMeans(common::micro_clip());
    let report = video_quality_with(&request(&config, &classifier, &out), &extractor).unwrap();
    assert_eq!(report.extractor, "frame means");
    assert_eq!(report.frechet.feature_dim, 6);
    assert_eq!(report.frechet.pca_dims, 3);
    assert!(out.join("quality.json").is_file() && out.join("quality.md").is_file());

    // An extractor of other clips is refused, naming both shapes, before anything is written.
    let other = FrameMeans(ProceduralConfig {
        frames: 4,
        ..common::micro_clip()
    });
    let out2 = dir.path().join("refused");
    let e = video_quality_with(&request(&config, &classifier, &out2), &other)
        .unwrap_err()
        .to_string();
    assert!(e.contains("frames: 4") && e.contains("frames: 2"), "{e}");
    assert!(!out2.exists());
}
