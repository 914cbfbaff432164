//! Projects.

use crate::engine::backend::Row;
use crate::engine::schema::Projects;
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::Store;
use ember_core::time::now_nanos;
use sea_query::{Expr, Func, Order, Query};

pub const DEFAULT_PROJECT_NAME: &str = "default";

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub type ProjectPage = Page<Project>;

impl Project {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(Project { id: row.get(0)?, name: row.get(1)?, description: row.get(2)?, created_at: row.get(3)?, updated_at: row.get(4)? })
    }
}

fn project_columns() -> [Projects; 5] {
    [Projects::Id, Projects::Name, Projects::Description, Projects::CreatedAt, Projects::UpdatedAt]
}

impl Store {
    /// Projects newest first; `cursor` is the id of the first project of the page.
    /// Projects newest first; an experiment's project only with `include_experiment_projects`.
    pub async fn list_projects(
        &self,
        cursor: Option<i64>,
        limit: usize,
        name_contains: Option<&str>,
        include_experiment_projects: bool,
        visibility: crate::ProjectVisibility,
    ) -> Result<ProjectPage> {
        let mut query = Query::select()
            .columns(project_columns())
            .from(Projects::Table)
            .order_by(Projects::Id, Order::Desc)
            .limit(limit as u64 + 1)
            .to_owned();
        if let Some(cursor) = cursor {
            query.and_where(Expr::col(Projects::Id).lte(cursor));
        }
        if let Some(fragment) = name_contains.filter(|f| !f.is_empty()) {
            let pattern = format!("%{}%", escape_like(&fragment.to_lowercase()));
            query.and_where(Expr::expr(Func::lower(Expr::col(Projects::Name))).like(sea_query::LikeExpr::new(pattern).escape('\\')));
        }
        if let Some(condition) = visibility.condition() {
            query.and_where(Expr::cust(condition));
        }
        if !include_experiment_projects {
            query.and_where(Expr::cust("NOT EXISTS (SELECT 1 FROM experiments AS x WHERE x.project_name = projects.name)"));
        }
        let rows = self.reader.exec().fetch_all(self.build(&query)).await?;
        let items = rows.iter().map(Project::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |p| p.id))
    }

    pub async fn get_project(&self, id: i64) -> Result<Option<Project>> {
        let query = Query::select().columns(project_columns()).from(Projects::Table).and_where(Expr::col(Projects::Id).eq(id)).to_owned();
        self.reader.exec().fetch_optional(self.build(&query)).await?.as_ref().map(Project::from_row).transpose()
    }

    pub async fn get_project_by_name(&self, name: &str) -> Result<Option<Project>> {
        let query =
            Query::select().columns(project_columns()).from(Projects::Table).and_where(Expr::col(Projects::Name).eq(name)).to_owned();
        self.reader.exec().fetch_optional(self.build(&query)).await?.as_ref().map(Project::from_row).transpose()
    }

    pub async fn create_project(&self, name: &str, description: Option<&str>) -> Result<Project> {
        let now = now_nanos();
        let insert = Query::insert()
            .into_table(Projects::Table)
            .columns([Projects::Name, Projects::Description, Projects::CreatedAt, Projects::UpdatedAt])
            .values_panic([name.into(), description.into(), now.into(), now.into()])
            .on_conflict(sea_query::OnConflict::column(Projects::Name).do_nothing().to_owned())
            .returning(Query::returning().columns(project_columns()))
            .to_owned();
        match self.writer.exec().fetch_optional(self.build(&insert)).await? {
            Some(row) => Project::from_row(&row),
            None => Err(StoreError::Conflict(format!("a project named {name:?} already exists"))),
        }
    }

    pub async fn update_project_description(&self, id: i64, description: Option<&str>) -> Result<Project> {
        let update = Query::update()
            .table(Projects::Table)
            .values([(Projects::Description, description.into()), (Projects::UpdatedAt, now_nanos().into())])
            .and_where(Expr::col(Projects::Id).eq(id))
            .returning(Query::returning().columns(project_columns()))
            .to_owned();
        match self.writer.exec().fetch_optional(self.build(&update)).await? {
            Some(row) => Project::from_row(&row),
            None => Err(StoreError::NotFound(format!("project {id} not found"))),
        }
    }

    /// Deletes a project with its traces, spans and sessions.
    pub async fn delete_project(&self, id: i64) -> Result<bool> {
        let delete = Query::delete().from_table(Projects::Table).and_where(Expr::col(Projects::Id).eq(id)).to_owned();
        Ok(self.writer.exec().execute(self.build(&delete)).await? > 0)
    }
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
