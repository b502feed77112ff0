//! Restoring into ClickHouse, the pure part: the plan against the target's facts, and the checked
//! address of its HTTP interface.

mod clickhouse_url;
mod plan;

pub use clickhouse_url::ClickHouseUrl;
pub use plan::{
    is_throwaway, json_u64, plan_restore, quote_ident, quote_string, throwaway_database_name, PlanOptions, PlanProblem,
    ProblemKind, RestorePlan, TargetDatabase, TargetFacts, TargetPolicy, DEFAULT_THROWAWAY_PREFIX, FACTS_QUERIES,
};
