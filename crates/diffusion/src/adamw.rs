//! AdamW over a list of named tensors, with its moments saved in checkpoints (tch's optimisers
//! cannot save their state, so resume would not be exact with them).

use std::collections::HashMap;
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// Decoupled weight-decay Adam (Loshchilov & Hutter), the update torch.optim.AdamW makes.
pub struct AdamW {
    pub config: AdamWConfig,
    params: Vec<(String, Tensor)>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    /// Updates applied so far (for bias correction).
    pub step: i64,
}

impl AdamW {
    /// `params`: the trainable variables, by name (order does not matter; it is sorted).
    pub fn new(mut params: Vec<(String, Tensor)>, config: AdamWConfig) -> Self {
        params.sort_by(|a, b| a.0.cmp(&b.0));
        // Moments in the parameters' dtype (f32, or f64 for `--precision f64`).
        let zeros = |p: &Tensor| p.zeros_like();
        let exp_avg = params.iter().map(|(_, p)| zeros(p)).collect();
        let exp_avg_sq = params.iter().map(|(_, p)| zeros(p)).collect();
        Self {
            config,
            params,
            exp_avg,
            exp_avg_sq,
            step: 0,
        }
    }

    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// The dtype of the parameters (f32 unless the model was cast).
    pub fn param_kind(&self) -> Kind {
        self.params.first().map_or(Kind::Float, |(_, p)| p.kind())
    }

    /// The defined gradients, in parameter-name order (the same on every rank of a
    /// data-parallel run, which trains the same paths).
    pub fn grads(&self) -> Vec<Tensor> {
        self.params
            .iter()
            .map(|(_, p)| p.grad())
            .filter(|g| g.defined())
            .collect()
    }

    /// Scales gradients so their global L2 norm is at most `max_norm`; returns the norm before.
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> f64 {
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .map(|(_, p)| p.grad())
            .filter(|g| g.defined())
            .collect();
        let total: f64 = grads
            .iter()
            .map(|g| g.square().sum(Kind::Double).double_value(&[]))
            .sum::<f64>()
            .sqrt();
        if total > max_norm && total.is_finite() {
            let scale = max_norm / (total + 1e-6);
            tch::no_grad(|| {
                for mut g in grads {
                    let _ = g.g_mul_scalar_(scale);
                }
            });
        }
        total
    }

    /// One update with learning rate `lr` (callers apply warm-up or schedules).
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let c = self.config;
        let bc1 = 1.0 - c.beta1.powi(self.step as i32);
        let bc2 = 1.0 - c.beta2.powi(self.step as i32);
        tch::no_grad(|| {
            for (i, (_, p)) in self.params.iter_mut().enumerate() {
                // A parameter no path has used yet has no gradient; treat it as zero so a
                // resumed process (where unused parameters have none) updates exactly alike.
                let g = p.grad();
                let g = if g.defined() { g } else { p.zeros_like() };
                let _ = p.g_mul_scalar_(1.0 - lr * c.weight_decay);
                let m = &mut self.exp_avg[i];
                let _ = m.g_mul_scalar_(c.beta1);
                let _ = m.g_add_(&(&g * (1.0 - c.beta1)));
                let v = &mut self.exp_avg_sq[i];
                let _ = v.g_mul_scalar_(c.beta2);
                let _ = v.g_add_(&(g.square() * (1.0 - c.beta2)));
                let denom = (&*v / bc2).sqrt() + c.eps;
                let update = &*m / &denom * (lr / bc1);
                let _ = p.g_sub_(&update);
            }
        });
    }

    /// Moments as named tensors (`exp_avg.<name>`, `exp_avg_sq.<name>`) for a checkpoint.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.params.len());
        for (i, (name, _)) in self.params.iter().enumerate() {
            // On the CPU, so a checkpoint resumes on any device.
            let cpu = |t: &Tensor| t.to_device(tch::Device::Cpu);
            out.push((format!("exp_avg.{name}"), cpu(&self.exp_avg[i])));
            out.push((format!("exp_avg_sq.{name}"), cpu(&self.exp_avg_sq[i])));
        }
        out
    }

    /// Restores moments saved by [`AdamW::state_tensors`]; every parameter must be present.
    pub fn load_state(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        step: i64,
    ) -> Result<(), String> {
        for (i, (name, _)) in self.params.iter().enumerate() {
            for (prefix, slot) in [
                ("exp_avg", &mut self.exp_avg[i]),
                ("exp_avg_sq", &mut self.exp_avg_sq[i]),
            ] {
                let key = format!("{prefix}.{name}");
                let t = tensors
                    .get(&key)
                    .ok_or_else(|| format!("optimizer state lacks `{key}`"))?;
                if t.kind() != slot.kind() {
                    return Err(format!(
                        "optimizer state `{key}` is {:?}, expected {:?}",
                        t.kind(),
                        slot.kind()
                    ));
                }
                if t.size() != slot.size() {
                    return Err(format!(
                        "optimizer state `{key}` has shape {:?}, expected {:?}",
                        t.size(),
                        slot.size()
                    ));
                }
                tch::no_grad(|| slot.copy_(t));
            }
        }
        self.step = step;
        Ok(())
    }
}
