use thiserror::Error;

#[derive(Debug, Error)]
pub enum ParallelError {
    /// Launched on several ranks, but something the engine needs is missing or refused.
    #[error("{0}")]
    Setup(String),
    /// A collective failed (the engine's own message).
    #[error("rank {rank} of {world}: {what} failed: {message}")]
    Collective {
        rank: usize,
        world: usize,
        what: String,
        message: String,
    },
}
