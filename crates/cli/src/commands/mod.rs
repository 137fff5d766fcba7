pub mod latency;
pub mod space;
pub mod train;
