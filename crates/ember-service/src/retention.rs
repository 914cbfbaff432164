//! Trace retention, as Phoenix has it: policies (a rule and an hourly cron schedule), the policy
//! each project follows (policy 0, "Default", for projects that name none), and the sweeper that
//! applies them.
//!
//! Rules: a policy's name is not empty; its schedule is a five-field cron expression whose
//! minute is `0` and whose day-of-month and month are `*` (Phoenix's: the sweeper wakes hourly);
//! `max_days` is a finite number ≥ 0 and `max_count` an integer ≥ 0 (0: no limit of that kind).
//! The default policy keeps its name and cannot be deleted. Policies are administration: only
//! admins change them or choose a project's.
//!
//! The sweeper applies a policy once its schedule's first time after the last application has
//! come (so a run missed while ember was down happens when it starts). It deletes a project's
//! traces oldest first in transactions of about [`TRANSACTION_TARGET`], pausing [`PAUSE_RATIO`]
//! times as long after each, so ingest and reads go on beside it; the hourly rollups keep what it
//! deletes.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ember_core::time::now_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_store::{Page, Project, RetentionPolicyChanges, RetentionPolicyRecord, RetentionRule, DEFAULT_RETENTION_POLICY_ID};
use tokio::sync::Notify;

use crate::error::{Result, ServiceError};
use crate::{Caller, ProjectRef, Services};

/// Phoenix's schedule for the default policy: Sundays at midnight UTC.
pub const DEFAULT_CRON_EXPRESSION: &str = "0 0 * * 0";

/// How often the sweeper looks for policies whose time has come.
const CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// How long one deleting transaction should hold the writer. Deletions touch index pages all
/// over the file (span ids are random), so larger transactions share each page among more
/// rows; ingest waits at most this long, its queue holding what arrives meanwhile.
const TRANSACTION_TARGET: Duration = Duration::from_millis(250);

/// The pause after a deleting transaction, as a multiple of how long it held the writer.
const PAUSE_RATIO: f64 = 1.4;

/// Traces per transaction at the start of a sweep, and the bounds the pacing keeps to.
const FIRST_BATCH: usize = 100;
const BATCH_BOUNDS: (usize, usize) = (10, 5_000);

/// A policy with the projects that follow it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionPolicy {
    pub record: RetentionPolicyRecord,
    /// Rowids of the projects following it that the caller may read (for the default policy:
    /// those that name no policy).
    pub project_ids: Vec<i64>,
}

/// A new policy, as a request gives it.
#[derive(Debug, Clone)]
pub struct NewRetentionPolicy<'a> {
    pub name: &'a str,
    pub cron_expression: &'a str,
    pub rule: RetentionRule,
    pub projects: Vec<ProjectRef<'a>>,
}

/// Changes to a policy, as a request gives them.
#[derive(Debug, Clone, Default)]
pub struct RetentionPolicyUpdate<'a> {
    pub name: Option<&'a str>,
    pub cron_expression: Option<&'a str>,
    pub rule: Option<RetentionRule>,
    pub add_projects: Vec<ProjectRef<'a>>,
    pub remove_projects: Vec<ProjectRef<'a>>,
}

/// What one pass of the sweeper did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub policies_applied: usize,
    pub traces_deleted: usize,
}

/// The pace of a deletion: transactions of about [`TRANSACTION_TARGET`], each followed by a pause
/// [`PAUSE_RATIO`] times as long, so ingest keeps most of the writer (and of the CPU: on two
/// cores a sweep at half the writer's time left ingest 41 % of its idle throughput).
pub(crate) struct Pace {
    batch: usize,
}

impl Pace {
    pub(crate) fn new() -> Self {
        Pace { batch: FIRST_BATCH }
    }

    /// Traces to delete in the next transaction.
    pub(crate) fn batch(&self) -> usize {
        self.batch
    }

    /// Scales the batch towards the target from how long the last took (at most doubling or
    /// halving it), then pauses.
    pub(crate) async fn after(&mut self, took: Duration) {
        let scaled = self.batch as f64 * TRANSACTION_TARGET.as_secs_f64() / took.as_secs_f64().max(1e-4);
        self.batch = (scaled as usize).clamp(self.batch / 2, self.batch * 2).clamp(BATCH_BOUNDS.0, BATCH_BOUNDS.1);
        tokio::time::sleep(took.mul_f64(PAUSE_RATIO)).await;
    }
}

/// Policies an admin asked to apply now, and the sweeper's wake-up.
#[derive(Debug, Default)]
pub struct SweepRequests {
    policies: Mutex<BTreeSet<i64>>,
    wake: Notify,
}

impl SweepRequests {
    fn request(&self, policy_id: i64) {
        self.policies.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(policy_id);
        self.wake.notify_one();
    }

    fn take(&self) -> BTreeSet<i64> {
        std::mem::take(&mut *self.policies.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

fn not_found_text(id: i64) -> String {
    format!("Retention policy with ID {} not found", GlobalId::encode(GlobalType::ProjectTraceRetentionPolicy, id))
}

/// A non-empty name, trimmed, within the length limit.
fn valid_name(name: &str) -> Result<String> {
    match name.trim() {
        "" => Err(ServiceError::invalid("Name cannot be empty")),
        name => {
            crate::limits::check_name("retention policy name", "name", name)?;
            Ok(name.to_string())
        }
    }
}

/// The longest schedule text accepted (`0 0,1,2,…,23 * * 0,1,…,6` is 80 characters).
const MAX_CRON_CHARS: usize = 200;

/// Projects one request may move to or from a policy.
const MAX_PROJECTS_PER_REQUEST: usize = 1_000;

/// A schedule as Phoenix accepts it: `0 <hours> * * <days of week>`, in UTC.
pub fn parse_schedule(cron_expression: &str) -> Result<croner::Cron> {
    if cron_expression.len() > MAX_CRON_CHARS {
        return Err(ServiceError::invalid(format!("Invalid cron expression: longer than {MAX_CRON_CHARS} characters")));
    }
    let fields: Vec<&str> = cron_expression.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(ServiceError::invalid("Invalid cron expression. Expected 5 fields (minute hour day-of-month month day-of-week)."));
    }
    if fields[0] != "0" {
        return Err(ServiceError::invalid("Invalid cron expression. Minute field must be '0'."));
    }
    if fields[2] != "*" || fields[3] != "*" {
        return Err(ServiceError::invalid("Invalid cron expression. Day-of-month and month fields must be '*'."));
    }
    croner::Cron::from_str(&fields.join(" ")).map_err(|error| ServiceError::invalid(format!("Invalid cron expression: {error}")))
}

/// The schedule's first time strictly after `after` (Unix nanoseconds), if it has one.
pub fn next_run_after(schedule: &croner::Cron, after: i64) -> Option<i64> {
    // Whole seconds: croner keeps the fraction of its starting time in what it finds.
    let after = DateTime::<Utc>::from_timestamp_nanos(after - after.rem_euclid(1_000_000_000));
    schedule.find_next_occurrence(&after, false).ok().and_then(|next| next.timestamp_nanos_opt())
}

/// A rule's limits are finite and not negative.
pub fn valid_rule(rule: RetentionRule) -> Result<RetentionRule> {
    if !rule.max_days().is_finite() || rule.max_days() < 0.0 {
        return Err(ServiceError::invalid(format!("max_days must be a number of days ≥ 0, not {}", rule.max_days())));
    }
    if rule.max_count() < 0 {
        return Err(ServiceError::invalid(format!("max_count must be a number of traces ≥ 0, not {}", rule.max_count())));
    }
    Ok(rule)
}

pub struct Retention<'a> {
    pub(crate) services: &'a Services,
}

impl Retention<'_> {
    /// Creates the default policy, keeping traces `default_days` days (0: for ever), unless it
    /// exists (as Phoenix, an existing one is left as it is).
    pub async fn ensure_default(&self, default_days: f64) -> Result<()> {
        let rule = valid_rule(RetentionRule::MaxDays(default_days))?;
        Ok(self.services.store.ensure_default_retention_policy(DEFAULT_CRON_EXPRESSION, rule).await?)
    }

    /// Policies by id, the default first, each with the projects following it that the caller
    /// may read.
    pub async fn list(&self, caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<RetentionPolicy>> {
        let page = self.services.store.list_retention_policies(cursor, limit).await?;
        let mut followers = self.followers(caller).await?;
        let items = page
            .items
            .into_iter()
            .map(|record| RetentionPolicy { project_ids: followers.remove(&record.id).unwrap_or_default(), record })
            .collect();
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    /// A policy by rowid; 404 when there is none.
    pub async fn get(&self, caller: &Caller, id: i64) -> Result<RetentionPolicy> {
        let record = self.services.store.get_retention_policy(id).await?.ok_or_else(|| ServiceError::not_found(not_found_text(id)))?;
        let project_ids = self.followers(caller).await?.remove(&id).unwrap_or_default();
        Ok(RetentionPolicy { record, project_ids })
    }

    pub async fn create(&self, caller: &Caller, policy: NewRetentionPolicy<'_>) -> Result<RetentionPolicy> {
        caller.require_admin()?;
        let name = valid_name(policy.name)?;
        parse_schedule(policy.cron_expression)?;
        let rule = valid_rule(policy.rule)?;
        let project_ids = self.project_ids(caller, &policy.projects).await?;
        let record = self.services.store.create_retention_policy(&name, policy.cron_expression.trim(), rule, &project_ids).await?;
        self.get(caller, record.id).await
    }

    /// Changes the given fields and moves projects to or from the policy (removed projects
    /// follow the default again).
    pub async fn update(&self, caller: &Caller, id: i64, update: RetentionPolicyUpdate<'_>) -> Result<RetentionPolicy> {
        caller.require_admin()?;
        let name = update.name.map(valid_name).transpose()?;
        if let Some(cron) = update.cron_expression {
            parse_schedule(cron)?;
        }
        let rule = update.rule.map(valid_rule).transpose()?;
        if id == DEFAULT_RETENTION_POLICY_ID {
            if name.as_deref().is_some_and(|name| name != "Default") {
                return Err(ServiceError::invalid("Cannot change the name of the default retention policy"));
            }
            if !update.add_projects.is_empty() || !update.remove_projects.is_empty() {
                return Err(ServiceError::invalid(
                    "The default retention policy applies to the projects that name no policy; set a project's policy to null instead",
                ));
            }
        }
        let add = self.project_ids(caller, &update.add_projects).await?;
        let remove = self.project_ids(caller, &update.remove_projects).await?;
        if add.iter().any(|project| remove.contains(project)) {
            return Err(ServiceError::invalid("A project cannot be in both add_projects and remove_projects"));
        }
        let changes = RetentionPolicyChanges { name, cron_expression: update.cron_expression.map(|cron| cron.trim().to_string()), rule };
        let store = &self.services.store;
        store.update_retention_policy(id, &changes, &add, &remove).await?.ok_or_else(|| ServiceError::not_found(not_found_text(id)))?;
        self.get(caller, id).await
    }

    /// Deletes a policy; its projects follow the default again. The default cannot go.
    pub async fn delete(&self, caller: &Caller, id: i64) -> Result<()> {
        caller.require_admin()?;
        if id == DEFAULT_RETENTION_POLICY_ID {
            return Err(ServiceError::invalid("Cannot delete the default retention policy"));
        }
        if !self.services.store.delete_retention_policy(id).await? {
            return Err(ServiceError::not_found(not_found_text(id)));
        }
        Ok(())
    }

    /// Makes a project follow a policy (`None` or the default's id: the default). Returns the
    /// project and the policy it now names.
    pub async fn set_for_project(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        policy_id: Option<i64>,
    ) -> Result<(Project, Option<i64>)> {
        caller.require_admin()?;
        let project = self.services.projects().resolve(caller, project).await?;
        let policy_id = policy_id.filter(|id| *id != DEFAULT_RETENTION_POLICY_ID);
        if let Some(id) = policy_id {
            self.services.store.get_retention_policy(id).await?.ok_or_else(|| ServiceError::not_found(not_found_text(id)))?;
        }
        self.services.store.set_project_retention_policy(project.id, policy_id).await?;
        Ok((project, policy_id))
    }

    /// The policy a project follows.
    pub async fn of_project(&self, caller: &Caller, project: ProjectRef<'_>) -> Result<RetentionPolicy> {
        let project = self.services.projects().resolve(caller, project).await?;
        let policy_id = self.services.store.project_retention_policy(project.id).await?;
        self.get(caller, policy_id.unwrap_or(DEFAULT_RETENTION_POLICY_ID)).await
    }

    /// Asks the sweeper to apply a policy now, whatever its schedule says.
    pub async fn apply_now(&self, caller: &Caller, id: i64) -> Result<RetentionPolicy> {
        caller.require_admin()?;
        let policy = self.get(caller, id).await?;
        self.services.sweep_requests.request(id);
        Ok(policy)
    }

    /// Applies the policies that are due (or asked for) until `stopped` resolves; a sweep cut
    /// short by it leaves the rest for the next start (each transaction is whole).
    pub async fn keep_swept(&self, stopped: impl std::future::Future<Output = ()>) {
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                report = self.sweep_due(now_nanos()) => match report {
                    Ok(report) if report.policies_applied > 0 => {
                        tracing::info!(policies = report.policies_applied, traces = report.traces_deleted, "retention policies applied");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not apply the retention policies"),
                },
                _ = &mut stopped => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_INTERVAL) => {}
                _ = self.services.sweep_requests.wake.notified() => {}
                _ = &mut stopped => return,
            }
        }
    }

    /// Applies every policy whose scheduled time has come by `now` (or that an admin asked for).
    pub async fn sweep_due(&self, now: i64) -> Result<SweepReport> {
        let requested = self.services.sweep_requests.take();
        let store = &self.services.store;
        let mut report = SweepReport::default();
        let mut cursor = None;
        loop {
            let page = store.list_retention_policies(cursor, 100).await?;
            for policy in &page.items {
                let scheduled = match parse_schedule(&policy.cron_expression) {
                    Ok(schedule) => {
                        next_run_after(&schedule, policy.last_applied_at.unwrap_or(policy.created_at)).is_some_and(|next| next <= now)
                    }
                    Err(_) => {
                        tracing::warn!(policy = policy.id, cron = %policy.cron_expression, "a retention policy's schedule is unreadable; it is not applied");
                        false
                    }
                };
                if !scheduled && !requested.contains(&policy.id) {
                    continue;
                }
                if policy.rule.deletes_anything() {
                    for project_id in store.retention_policy_projects(policy.id).await? {
                        report.traces_deleted += self.sweep_project(project_id, policy.rule, now).await?;
                    }
                }
                store.mark_retention_applied(policy.id, now).await?;
                report.policies_applied += 1;
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(report),
            }
        }
    }

    /// Deletes the project's traces that `rule` does not keep at `now`, oldest first, at the
    /// sweeper's [`Pace`].
    async fn sweep_project(&self, project_id: i64, rule: RetentionRule, now: i64) -> Result<usize> {
        let store = &self.services.store;
        let Some(cutoff) = store.retention_cutoff(project_id, rule, now).await? else {
            return Ok(0);
        };
        let (mut pace, mut deleted) = (Pace::new(), 0);
        loop {
            let step = store.sweep_traces_before(project_id, cutoff, pace.batch()).await?;
            deleted += step.deleted;
            if step.deleted < pace.batch() {
                if deleted > 0 {
                    tracing::info!(project_id, traces = deleted, "retention deleted the project's oldest traces");
                    self.services.storage().recheck();
                }
                return Ok(deleted);
            }
            pace.after(step.held).await;
        }
    }

    /// Policy id → the readable projects following it.
    async fn followers(&self, caller: &Caller) -> Result<HashMap<i64, Vec<i64>>> {
        let assignments = self.services.store.project_retention_assignments().await?;
        let readable: BTreeSet<i64> = self
            .services
            .readable_ids(caller, &assignments.iter().map(|(project, _)| *project).collect::<Vec<_>>())
            .await?
            .into_iter()
            .collect();
        let mut followers: HashMap<i64, Vec<i64>> = HashMap::new();
        for (project_id, policy_id) in assignments.into_iter().filter(|(project, _)| readable.contains(project)) {
            followers.entry(policy_id.unwrap_or(DEFAULT_RETENTION_POLICY_ID)).or_default().push(project_id);
        }
        Ok(followers)
    }

    async fn project_ids(&self, caller: &Caller, projects: &[ProjectRef<'_>]) -> Result<Vec<i64>> {
        if projects.len() > MAX_PROJECTS_PER_REQUEST {
            return Err(ServiceError::invalid(format!("At most {MAX_PROJECTS_PER_REQUEST} projects may be named in one request")));
        }
        let mut ids = Vec::with_capacity(projects.len());
        for project in projects {
            ids.push(self.services.projects().resolve(caller, *project).await?.id);
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_follow_phoenix_rules() {
        assert!(parse_schedule("0 0 * * 0").is_ok());
        assert!(parse_schedule(" 0  */6 * * 1-5 ").is_ok());
        let long = format!("0 {} * * 0", "1,".repeat(100));
        for (cron, message) in [
            ("0 0 * *", "Expected 5 fields"),
            ("5 0 * * 0", "Minute field must be '0'"),
            ("0 0 1 * 0", "Day-of-month and month"),
            ("0 0 * 2 0", "Day-of-month and month"),
            ("0 25 * * 0", "Invalid cron expression"),
            (long.as_str(), "longer than 200 characters"),
        ] {
            let error = parse_schedule(cron).expect_err(cron);
            assert!(error.to_string().contains(message), "{cron}: {error}");
        }
    }

    #[test]
    fn the_next_run_is_the_first_scheduled_hour_after() {
        let schedule = parse_schedule("0 0 * * 0").unwrap();
        // Saturday 2026-12-05 14:00 UTC → Sunday 2026-12-06 00:00 UTC.
        let saturday = DateTime::parse_from_rfc3339("2026-12-05T14:00:00Z").unwrap().timestamp_nanos_opt().unwrap();
        let sunday = DateTime::parse_from_rfc3339("2026-12-06T00:00:00Z").unwrap().timestamp_nanos_opt().unwrap();
        assert_eq!(next_run_after(&schedule, saturday), Some(sunday));
        assert_eq!(next_run_after(&schedule, sunday), Some(sunday + 7 * 86_400 * 1_000_000_000), "strictly after");
        let hourly = parse_schedule("0 * * * *").unwrap();
        assert_eq!(next_run_after(&hourly, saturday + 1), Some(saturday + 3_600 * 1_000_000_000));
    }

    #[test]
    fn rules_refuse_negative_and_unbounded_limits() {
        assert!(valid_rule(RetentionRule::MaxDays(0.5)).is_ok());
        assert!(valid_rule(RetentionRule::MaxDays(-1.0)).is_err());
        assert!(valid_rule(RetentionRule::MaxDays(f64::NAN)).is_err());
        assert!(valid_rule(RetentionRule::MaxCount(-3)).is_err());
        assert!(valid_rule(RetentionRule::MaxDaysOrCount { max_days: 1.0, max_count: 0 }).is_ok());
    }
}
