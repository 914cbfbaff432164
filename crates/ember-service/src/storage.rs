//! Storage limits: the disk guard and the byte budget.
//!
//! Every [`CHECK_INTERVAL`] (and after a sweep or a purge) the guard measures the database's used
//! bytes and, on SQLite, the free space of the disk holding it, and compares them with the
//! limits:
//! - Phoenix's `PHOENIX_DATABASE_ALLOCATED_STORAGE_CAPACITY_GIBIBYTES` with its warning and
//!   insertion-blocking percentages;
//! - `EMBER_DISK_FREE_WARNING_BYTES` and `EMBER_DISK_FREE_MIN_BYTES` for the disk (SQLite).
//!
//! Past a warning threshold it logs and the web UI shows a banner; past a hard one, ingest (spans
//! over OTLP and the Arize uploads, ML records) is refused with 507 / RESOURCE_EXHAUSTED and a
//! message naming the setting, before anything is accepted; reads, deletions and purges go on, and
//! ingest resumes once a check finds room again.
//!
//! `EMBER_MAX_DATABASE_BYTES` is a budget instead: past it, the oldest traces of every project
//! are deleted (in the sweeper's paced transactions, the hourly rollups keeping them) until the
//! database is back under 90 % of it, and SQLite returns the freed pages to the file system.
//!
//! A project may have its own byte budget (set by admins; at least 1 byte, or none). Its bytes are
//! estimated from the hourly rollups' span content bytes (attributes as stored, events, names,
//! ids; indexes not counted) from the hour of its oldest trace on; past the budget, its traces
//! are deleted oldest first, whole hours at a time, until the estimate is under 90 % of it (the
//! newest hour always stays), in the same paced transactions.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ember_core::ErrorCode;
use tokio::sync::Notify;

use crate::error::{Result, ServiceError};
use crate::{Caller, ProjectRef, Services};

/// A project's byte budget (`None`: none) and its estimated bytes.
#[derive(Debug, Clone)]
pub struct ProjectBudget {
    pub project: ember_store::Project,
    pub max_bytes: Option<i64>,
    pub used_bytes: i64,
}

/// How often the guard measures, besides after sweeps and purges.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// The most admins a storage warning is mailed to.
const MAX_WARNED_ADMINS: usize = 100;

/// A budget sweep stops at this share of the budget, so it does not run again at once.
const BUDGET_LOW_WATER: f64 = 0.9;

const GIB: f64 = (1u64 << 30) as f64;

/// The limits, as configured.
#[derive(Debug, Clone, Default)]
pub struct StorageSettings {
    /// `PHOENIX_DATABASE_ALLOCATED_STORAGE_CAPACITY_GIBIBYTES`.
    pub capacity_gib: Option<f64>,
    /// `PHOENIX_DATABASE_USAGE_EMAIL_WARNING_THRESHOLD_PERCENTAGE`: of the capacity.
    pub warning_percent: Option<f64>,
    /// `PHOENIX_DATABASE_USAGE_INSERTION_BLOCKING_THRESHOLD_PERCENTAGE`: of the capacity.
    pub blocking_percent: Option<f64>,
    /// `EMBER_MAX_DATABASE_BYTES`: the budget enforced by deleting the oldest traces.
    pub max_database_bytes: Option<u64>,
    /// `EMBER_DISK_FREE_WARNING_BYTES` (SQLite).
    pub disk_free_warning_bytes: u64,
    /// `EMBER_DISK_FREE_MIN_BYTES` (SQLite).
    pub disk_free_min_bytes: u64,
}

/// How close to the limits the database is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StorageLevel {
    #[default]
    Fine,
    /// Past a warning threshold: what is near its limit.
    Warning(String),
    /// Past a hard threshold: ingest is refused with this message.
    Blocked(String),
}

/// The last measurement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageStatus {
    pub level: StorageLevel,
    pub used_bytes: u64,
    /// Free bytes of the disk holding the database (SQLite).
    pub disk_free_bytes: Option<u64>,
}

/// The guard's state, shared by the services.
#[derive(Debug, Default)]
pub struct StorageGuard {
    settings: StorageSettings,
    status: Mutex<StorageStatus>,
    wake: Notify,
}

impl StorageGuard {
    pub fn new(settings: StorageSettings) -> Self {
        StorageGuard { settings, ..Default::default() }
    }

    fn status(&self) -> StorageStatus {
        self.status.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / GIB)
}

/// The level of a measurement against the limits: the hard thresholds first.
pub fn level_of(settings: &StorageSettings, used_bytes: u64, disk_free_bytes: Option<u64>) -> StorageLevel {
    let capacity = settings.capacity_gib.filter(|capacity| *capacity > 0.0).map(|capacity| capacity * GIB);
    let used_percent = capacity.map(|capacity| 100.0 * used_bytes as f64 / capacity);
    let over = |threshold: Option<f64>| used_percent.zip(threshold).is_some_and(|(used, threshold)| threshold > 0.0 && used > threshold);
    let capacity_text = || {
        format!(
            "the database uses {} ({:.0} % of PHOENIX_DATABASE_ALLOCATED_STORAGE_CAPACITY_GIBIBYTES = {})",
            gib(used_bytes),
            used_percent.unwrap_or_default(),
            settings.capacity_gib.unwrap_or_default()
        )
    };
    if let Some(free) = disk_free_bytes.filter(|free| *free < settings.disk_free_min_bytes) {
        return StorageLevel::Blocked(format!(
            "Ingest is paused: the disk holding the database has {} free, below EMBER_DISK_FREE_MIN_BYTES ({}). \
             Delete old data (a retention policy, or clear data in a project's settings) or free the disk.",
            gib(free),
            gib(settings.disk_free_min_bytes)
        ));
    }
    if over(settings.blocking_percent) {
        return StorageLevel::Blocked(format!(
            "Ingest is paused: {}, past PHOENIX_DATABASE_USAGE_INSERTION_BLOCKING_THRESHOLD_PERCENTAGE ({} %). \
             Delete old data (a retention policy, or clear data in a project's settings) or raise the capacity.",
            capacity_text(),
            settings.blocking_percent.unwrap_or_default()
        ));
    }
    if let Some(free) = disk_free_bytes.filter(|free| *free < settings.disk_free_warning_bytes) {
        return StorageLevel::Warning(format!(
            "The disk holding the database has {} free, below EMBER_DISK_FREE_WARNING_BYTES ({}); ingest stops below {}.",
            gib(free),
            gib(settings.disk_free_warning_bytes),
            gib(settings.disk_free_min_bytes)
        ));
    }
    if over(settings.warning_percent) {
        return StorageLevel::Warning(format!(
            "Storage is running low: {}, past PHOENIX_DATABASE_USAGE_EMAIL_WARNING_THRESHOLD_PERCENTAGE ({} %).",
            capacity_text(),
            settings.warning_percent.unwrap_or_default()
        ));
    }
    StorageLevel::Fine
}

pub struct Storage<'a> {
    pub(crate) services: &'a Services,
}

impl Storage<'_> {
    fn guard(&self) -> &Arc<StorageGuard> {
        &self.services.storage
    }

    /// The database backend: `"sqlite"` or `"postgresql"`.
    pub fn backend(&self) -> &'static str {
        self.services.store.backend_name()
    }

    /// The last measurement (for the web UI's banner).
    pub fn status(&self) -> StorageStatus {
        self.guard().status()
    }

    /// Refuses ingest (507 / RESOURCE_EXHAUSTED) while a hard threshold is passed.
    pub fn check_ingest(&self) -> Result<()> {
        match self.guard().status().level {
            StorageLevel::Blocked(message) => Err(ServiceError::new(ErrorCode::InsufficientStorage, message)),
            _ => Ok(()),
        }
    }

    /// Has the guard give freed pages back and measure again soon (after deletions).
    pub fn recheck(&self) {
        self.guard().wake.notify_one();
    }

    /// Measures now and updates the level (logged when it changes).
    pub async fn refresh(&self) -> Result<StorageStatus> {
        let store = &self.services.store;
        let used_bytes = store.database_used_bytes().await?;
        let disk_free_bytes = match store.database_file() {
            Some(file) => disk_free_bytes(file.parent().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))),
            None => None,
        };
        let status = StorageStatus { level: level_of(&self.guard().settings, used_bytes, disk_free_bytes), used_bytes, disk_free_bytes };
        let previous = std::mem::replace(&mut *self.guard().status.lock().unwrap_or_else(|poisoned| poisoned.into_inner()), status.clone());
        if let StorageLevel::Warning(message) | StorageLevel::Blocked(message) = &status.level {
            self.mail_admins(message).await;
        }
        if previous.level != status.level {
            match &status.level {
                StorageLevel::Fine => tracing::info!(used_bytes, "storage is back within its limits; ingest goes on"),
                StorageLevel::Warning(message) => tracing::warn!(used_bytes, "{message}"),
                StorageLevel::Blocked(message) => tracing::error!(used_bytes, "{message}"),
            }
        }
        Ok(status)
    }

    /// Mails each admin that storage passed a threshold, at most once a day each (Phoenix's
    /// database usage warning); nothing without an SMTP server.
    async fn mail_admins(&self, message: &str) {
        let Some(mailer) = self.services.mailer.clone() else { return };
        let admins = match self.services.store.admin_emails(MAX_WARNED_ADMINS).await {
            Ok(admins) => admins,
            Err(error) => {
                tracing::warn!(%error, "no storage warning mailed: the admins could not be read");
                return;
            }
        };
        let settings_url = format!("{}/settings", self.services.site_url);
        for admin in mailer.due_storage_warnings(admins, std::time::Instant::now()) {
            let (mailer, mail) = (mailer.clone(), crate::mail::storage_warning_mail(&admin, message, &settings_url));
            tokio::spawn(async move {
                if let Err(error) = mailer.send(mail).await {
                    tracing::warn!(%error, "a storage warning was not mailed");
                }
            });
        }
    }

    /// Measures every [`CHECK_INTERVAL`] (or when asked to), enforcing the byte budget, until
    /// `stopped` resolves.
    pub async fn keep_watch(&self, stopped: impl std::future::Future<Output = ()>) {
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                result = self.check_and_enforce() => if let Err(error) = result {
                    tracing::warn!(%error, "could not check the database's storage");
                },
                _ = &mut stopped => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_INTERVAL) => {}
                _ = self.guard().wake.notified() => {}
                _ = &mut stopped => return,
            }
        }
    }

    /// A project's byte budget and its estimated bytes.
    pub async fn project_budget(&self, caller: &Caller, project: ProjectRef<'_>) -> Result<ProjectBudget> {
        let project = self.services.projects().resolve(caller, project).await?;
        let store = &self.services.store;
        Ok(ProjectBudget {
            max_bytes: store.project_max_bytes(project.id).await?,
            used_bytes: store.project_bytes(project.id).await?,
            project,
        })
    }

    /// Sets or (`None`) clears a project's byte budget; admins only. It is enforced at once.
    pub async fn set_project_budget(&self, caller: &Caller, project: ProjectRef<'_>, max_bytes: Option<i64>) -> Result<ProjectBudget> {
        caller.require_admin()?;
        if let Some(max_bytes) = max_bytes.filter(|max_bytes| *max_bytes < 1) {
            return Err(ServiceError::invalid(format!("max_bytes must be a number of bytes ≥ 1 (or null for no budget), not {max_bytes}")));
        }
        let project = self.services.projects().resolve(caller, project).await?;
        self.services.store.set_project_max_bytes(project.id, max_bytes).await?;
        self.recheck();
        self.project_budget(caller, ProjectRef::Id(project.id)).await
    }

    /// Deletes the oldest traces of each project past its byte budget until it is under 90 % of
    /// it; returns how many went.
    pub async fn enforce_project_budgets(&self) -> Result<usize> {
        let store = &self.services.store;
        let mut deleted = 0;
        for (project_id, max_bytes) in store.projects_with_byte_budgets().await? {
            let used = store.project_bytes(project_id).await?;
            if used <= max_bytes {
                continue;
            }
            let target = (max_bytes as f64 * BUDGET_LOW_WATER) as i64;
            let Some(cutoff) = store.byte_budget_cutoff(project_id, target).await? else { continue };
            let mut pace = crate::retention::Pace::new();
            let mut went = 0;
            loop {
                let step = store.sweep_traces_before(project_id, cutoff, pace.batch()).await?;
                went += step.deleted;
                if step.deleted < pace.batch() {
                    break;
                }
                pace.after(step.held).await;
            }
            tracing::info!(project_id, traces = went, used, max_bytes, "oldest traces deleted to keep the project within its byte budget");
            deleted += went;
        }
        Ok(deleted)
    }

    /// One check: give freed pages back (SQLite), measure, and past the budget delete the
    /// oldest traces until under 90 % of it; then the projects' budgets.
    pub async fn check_and_enforce(&self) -> Result<StorageStatus> {
        self.enforce_project_budgets().await?;
        self.services.store.return_free_space().await?;
        let status = self.refresh().await?;
        let Some(budget) = self.guard().settings.max_database_bytes.filter(|budget| *budget > 0) else {
            return Ok(status);
        };
        if status.used_bytes <= budget {
            return Ok(status);
        }
        let target = (budget as f64 * BUDGET_LOW_WATER) as u64;
        tracing::warn!(used = status.used_bytes, budget, "the database is past EMBER_MAX_DATABASE_BYTES; deleting the oldest traces");
        let store = &self.services.store;
        let (mut deleted, mut used) = (0, status.used_bytes);
        let mut pace = crate::retention::Pace::new();
        while used > target {
            // As many traces as the excess is of the whole, at most a paced batch: a little
            // less than needed each round (the whole counts the schema too), so it does not
            // overshoot.
            let traces = store.count_all_traces().await?;
            let share = (used - target) as f64 / used as f64;
            let wanted = ((traces as f64 * share).ceil() as usize).max(1);
            let step = store.sweep_oldest_traces(wanted.min(pace.batch())).await?;
            if step.deleted == 0 {
                break;
            }
            deleted += step.deleted;
            used = store.database_used_bytes().await?;
            pace.after(step.held).await;
        }
        store.return_free_space().await?;
        tracing::info!(traces = deleted, used, budget, "oldest traces deleted to keep within EMBER_MAX_DATABASE_BYTES");
        self.refresh().await
    }
}

/// Free bytes of the file system holding `dir`; `None` when it cannot be read.
fn disk_free_bytes(dir: PathBuf) -> Option<u64> {
    let stat = rustix::fs::statvfs(&dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_thresholds_come_first_and_name_their_setting() {
        let settings = StorageSettings {
            capacity_gib: Some(1.0),
            warning_percent: Some(50.0),
            blocking_percent: Some(90.0),
            max_database_bytes: None,
            disk_free_warning_bytes: 10 << 30,
            disk_free_min_bytes: 1 << 30,
        };
        let gib = 1u64 << 30;
        assert_eq!(level_of(&settings, gib / 4, Some(100 << 30)), StorageLevel::Fine);
        let StorageLevel::Warning(message) = level_of(&settings, gib * 6 / 10, Some(100 << 30)) else { panic!() };
        assert!(message.contains("PHOENIX_DATABASE_USAGE_EMAIL_WARNING_THRESHOLD_PERCENTAGE (50 %)"), "{message}");
        let StorageLevel::Blocked(message) = level_of(&settings, gib * 95 / 100, Some(100 << 30)) else { panic!() };
        assert!(message.contains("PHOENIX_DATABASE_USAGE_INSERTION_BLOCKING_THRESHOLD_PERCENTAGE (90 %)"), "{message}");
        let StorageLevel::Warning(message) = level_of(&settings, 0, Some(5 << 30)) else { panic!() };
        assert!(message.contains("EMBER_DISK_FREE_WARNING_BYTES"), "{message}");
        let StorageLevel::Blocked(message) = level_of(&settings, 0, Some(1 << 20)) else { panic!() };
        assert!(message.contains("EMBER_DISK_FREE_MIN_BYTES"), "{message}");
        assert_eq!(level_of(&StorageSettings::default(), u64::MAX, None), StorageLevel::Fine, "no limits, no level");
    }
}
