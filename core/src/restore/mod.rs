//! Restoring into ClickHouse, the pure part: the plan against the target's facts, and the checked
//! address of its HTTP interface.

pub mod clickhouse_url;
pub mod plan;
