//! Table and column identifiers for sea-query.

use sea_query::Iden;

#[derive(Iden, Clone, Copy)]
pub enum Projects {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
pub enum ProjectSessions {
    Table,
    Id,
    SessionId,
    ProjectId,
    StartTime,
    EndTime,
}

#[derive(Iden, Clone, Copy)]
pub enum Traces {
    Table,
    Id,
    TraceId,
    ProjectId,
    SessionRowid,
    StartTime,
    EndTime,
}

#[derive(Iden, Clone, Copy)]
pub enum Spans {
    Table,
    Id,
    TraceRowid,
    ProjectId,
    SpanId,
    ParentId,
    Name,
    SpanKind,
    StartTime,
    StatusCode,
}
