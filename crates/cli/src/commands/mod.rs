pub mod bench;
pub mod demo;
pub mod export;
pub mod latency;
pub mod sample;
pub mod search;
pub mod space;
pub mod train;
