//! What a funnel run counts: the method, the period length, the stages and their windows.

use crate::model::time::{Micros, PeriodKind};
use chrono_tz::Tz;

/// How a step-up rate is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Of the deals entering s in the period, the share entering s+1 within the window.
    Cohort,
    /// Deals entering s+1 in the period / deals entering s in the period (can exceed 1).
    Flow,
}

#[derive(Debug, Clone)]
pub struct FunnelConfig {
    pub method: Method,
    pub period: PeriodKind,
    pub tz: Tz,
    pub stages: Vec<String>,
    /// Window in days per transition.
    pub windows: Vec<u32>,
    pub as_of: Micros,
    pub strict: bool,
    /// One period over the whole data (`--period all`) instead of months, weeks or quarters.
    pub whole: bool,
    /// An open deal with no event for this many days before as-of is lost.
    pub stale_after_days: u32,
}

impl FunnelConfig {
    /// Monthly cohorts with the playbook's windows: what diagnosis, plans and reviews read.
    /// `as_of` defaults to the latest event.
    pub fn monthly_cohort(
        playbook: &crate::model::playbook::Playbook,
        as_of: Option<Micros>,
    ) -> FunnelConfig {
        FunnelConfig {
            method: Method::Cohort,
            period: PeriodKind::Month,
            tz: playbook.timezone,
            stages: playbook.stages.clone(),
            windows: playbook.windows.clone(),
            as_of: as_of.unwrap_or(i64::MIN),
            strict: false,
            whole: false,
            stale_after_days: playbook.stale_after_days,
        }
    }
}
