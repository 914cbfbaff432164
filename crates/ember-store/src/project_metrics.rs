//! A project's metrics over a window that the hourly rollups do not hold: errored spans by kind
//! (read through the status index, so as many rows as the project has errors) and the mean score
//! of each span annotation name (driven by the annotations, so as many rows as the project's
//! spans have scored annotations, whatever the number of spans). Both bin as
//! [`BinLayout`] does, so their charts line up with the rollups'.

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
    /// The project's errored spans in each bin of `window`, by span kind (most errors first).
    pub async fn project_errors_by_kind(&self, project_id: i64, window: ActivityWindow) -> Result<Vec<BinnedSeries<i64>>> {
        let layout = BinLayout::of(&window);
        let sql = "SELECT span_kind, (start_time - $2) / CAST($4 AS BIGINT) AS bin, COUNT(*) FROM spans \
                   WHERE project_id = $1 AND status_code = 'ERROR' AND start_time >= $2 AND start_time < $3 GROUP BY span_kind, bin";
        let values = [project_id.into(), layout.start.into(), window.end.into(), layout.bin_nanos().into()];
        let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
        let mut series: Vec<BinnedSeries<i64>> = Vec::new();
        for row in rows {
            let (kind, bin, count): (String, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let index = match series.iter().position(|s| s.name == kind) {
                Some(index) => index,
                None => {
                    series.push(BinnedSeries { name: kind, bins: vec![0; layout.bins as usize] });
                    series.len() - 1
                }
            };
            if let Some(slot) = usize::try_from(bin).ok().and_then(|bin| series[index].bins.get_mut(bin)) {
                *slot += count;
            }
        }
        series.sort_by_key(|s| (std::cmp::Reverse(s.bins.iter().sum::<i64>()), s.name.clone()));
        Ok(series)
    }

    /// The mean score of each span annotation name in each bin of `window` (by the span's start;
    /// notes and annotations without a score left out), names in order.
    pub async fn project_annotation_score_trends(&self, project_id: i64, window: ActivityWindow) -> Result<Vec<BinnedSeries<Option<f64>>>> {
        let layout = BinLayout::of(&window);
        // `+` keeps the spans' project and time indexes from driving: the annotations are far
        // fewer than the spans, and each finds its span by primary key.
        let sql = "SELECT a.name, (s.start_time - $2) / CAST($4 AS BIGINT) AS bin, AVG(a.score) FROM span_annotations AS a \
                   JOIN spans AS s ON s.id = a.span_rowid WHERE +s.project_id = $1 AND +s.start_time >= $2 AND +s.start_time < $3 \
                   AND a.score IS NOT NULL AND a.name <> 'note' GROUP BY a.name, bin ORDER BY a.name";
        let values = [project_id.into(), layout.start.into(), window.end.into(), layout.bin_nanos().into()];
        let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
        let mut series: Vec<BinnedSeries<Option<f64>>> = Vec::new();
        for row in rows {
            let (name, bin, mean): (String, i64, f64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if series.last().is_none_or(|last| last.name != name) {
                series.push(BinnedSeries { name, bins: vec![None; layout.bins as usize] });
            }
            if let Some(slot) = usize::try_from(bin).ok().and_then(|bin| series.last_mut().and_then(|s| s.bins.get_mut(bin))) {
                *slot = Some(mean);
            }
        }
        Ok(series)
    }
}
