//! A project's metrics over a window beyond the hourly totals: errored spans by kind (from the
//! hourly kind rollups) and the mean score of each span annotation name (from the project's
//! latest scored annotations, a bounded read). Both bin as [`BinLayout`] does, so their charts
//! line up with the rollups'.

/// How many of a project's latest scored span annotations the score trends are read from.
pub const MAX_TREND_ANNOTATIONS: usize = 20_000;

use crate::engine::backend::Statement;
use crate::error::Result;
use crate::write::rollups::{ActivityWindow, BinLayout};
use crate::Store;

/// One series of counts or means, per bin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BinnedSeries<T> {
    pub name: String,
    pub bins: Vec<T>,
}

impl Store {
    /// The project's errored spans in each bin of `window`, by span kind (most errors first),
    /// from the hourly kind rollups kept by ingest; kinds without errors are left out.
    pub async fn project_errors_by_kind(&self, project_id: i64, window: ActivityWindow) -> Result<Vec<BinnedSeries<i64>>> {
        let layout = BinLayout::of(&window);
        let sql = "SELECT span_kind, hour, error_count FROM project_hourly_kinds \
                   WHERE project_id = $1 AND hour >= $2 AND hour < $3 AND error_count > 0";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [project_id.into(), layout.start.into(), window.end.into()])).await?;
        let mut series: Vec<BinnedSeries<i64>> = Vec::new();
        for row in rows {
            let (kind, hour, count): (String, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let index = match series.iter().position(|s| s.name == kind) {
                Some(index) => index,
                None => {
                    series.push(BinnedSeries { name: kind, bins: vec![0; layout.bins as usize] });
                    series.len() - 1
                }
            };
            if let Some(bin) = layout.bin_of(hour) {
                series[index].bins[bin] += count;
            }
        }
        series.sort_by_key(|s| (std::cmp::Reverse(s.bins.iter().sum::<i64>()), s.name.clone()));
        Ok(series)
    }

    /// The mean score of each span annotation name in each bin of `window` (by the span's start;
    /// notes and annotations without a score left out), names in order, read from the project's
    /// latest `MAX_TREND_ANNOTATIONS` scored span annotations: a bounded read however many a
    /// project has (judges may score every span).
    pub async fn project_annotation_score_trends(&self, project_id: i64, window: ActivityWindow) -> Result<Vec<BinnedSeries<Option<f64>>>> {
        let layout = BinLayout::of(&window);
        // Newest first through the annotations' primary key; each finds its span by primary key
        // (`+` keeps the spans' indexes from driving).
        let sql = format!(
            "SELECT a.name, s.start_time, a.score FROM span_annotations AS a JOIN spans AS s ON s.id = a.span_rowid \
             WHERE +s.project_id = $1 AND a.score IS NOT NULL AND a.name <> 'note' ORDER BY a.id DESC LIMIT {MAX_TREND_ANNOTATIONS}"
        );
        let rows = self.fetch_within_budget(Statement::new(sql, [project_id.into()])).await?;
        let mut sums: std::collections::BTreeMap<String, Vec<(f64, u32)>> = std::collections::BTreeMap::new();
        for row in rows {
            let (name, start, score): (String, i64, f64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if start >= window.end {
                continue;
            }
            let Some(bin) = layout.bin_of(start) else { continue };
            let bins = sums.entry(name).or_insert_with(|| vec![(0.0, 0); layout.bins as usize]);
            bins[bin].0 += score;
            bins[bin].1 += 1;
        }
        Ok(sums
            .into_iter()
            .map(|(name, bins)| BinnedSeries { name, bins: bins.into_iter().map(|(sum, n)| (n > 0).then(|| sum / f64::from(n))).collect() })
            .collect())
    }
}
