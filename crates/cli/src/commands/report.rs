//! `vidnas report`: the plots and index page of a search run (`vidnas_report::write_report`).

use crate::paths::out_dir;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use vidnas_report::{write_report, ReportOptions};

#[derive(Args)]
pub struct ReportArgs {
    /// Search run folder.
    pub run: PathBuf,
    /// Folder for the plots (PNG and SVG) and index.md / index.html.
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let files = write_report(&a.run, &a.out, &ReportOptions::default())?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}
