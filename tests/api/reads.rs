//! Reads outside transactions (`Db::one`, `Db::all`) run on the connections PostgreSQL reads
//! keep (src/db/kept.rs) and decode rows by column position (src/db/positional.rs): they must
//! return what SeaORM's own `one` and `all` return for the same select, every row and column on
//! both backends, and fail as SeaORM fails; a select list that does not match its model fails
//! instead of reading one column as another.

use neoforge::entity::{projects, users};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, Statement};

use crate::common::spawn_app;
use crate::rest::create_project;

#[tokio::test]
async fn reads_equal_seaorms_own_for_every_row_and_column() {
    let app = spawn_app().await;
    let owner = app.user("reads-owner@example.com").await;
    app.user("reads-other@example.com").await;
    app.user("reads-third@example.com").await;
    for i in 0..7 {
        let visibility = if i % 2 == 0 { "public" } else { "private" };
        create_project(
            &app,
            &owner,
            &format!("row {i} \u{e9}\u{1f600}"),
            visibility,
        )
        .await;
    }
    let cx = app.anonymous();
    let db = cx.db();
    // Nullable columns both set and unset across the rows read.
    users::Entity::update_many()
        .col_expr(users::Column::TotpLastStep, Expr::value(41i64))
        .col_expr(users::Column::TotpSecret, Expr::value("secret"))
        .filter(users::Column::Email.eq("reads-other@example.com"))
        .exec(db.conn())
        .await
        .expect("update");
    // Timestamps either side of both epochs (PostgreSQL counts from 2000, Unix from 1970), to
    // the microsecond, on the first row and the rows after it (read without sqlx's checks).
    let instants = [
        "2026-11-29T10:11:12.345678Z",
        "1950-06-01T12:34:56.789012Z",
        "1999-12-31T23:59:59.999999Z",
        "2000-01-01T00:00:00Z",
        "1970-01-01T00:00:00.000001Z",
        "9999-12-31T23:59:59.999999Z",
        "0001-01-01T00:00:00Z",
    ];
    let instants: Vec<chrono::DateTime<chrono::Utc>> = instants
        .iter()
        .map(|s| s.parse().expect("instant"))
        .collect();
    for (i, at) in instants.iter().enumerate() {
        projects::Entity::update_many()
            .col_expr(projects::Column::CreatedAt, Expr::value(*at))
            .filter(projects::Column::Name.starts_with(format!("row {i} ")))
            .exec(db.conn())
            .await
            .expect("update");
    }
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Expr::value(instants[1]))
        .filter(users::Column::Email.eq("reads-owner@example.com"))
        .exec(db.conn())
        .await
        .expect("update");

    let query = projects::Entity::find().order_by_asc(projects::Column::Name);
    let read: Vec<projects::Model> = db.all(&query).await.expect("read");
    let seaorm = query.clone().all(db.conn()).await.expect("SeaORM");
    assert_eq!(read.len(), 7);
    let created: Vec<_> = read.iter().map(|p| p.created_at).collect();
    assert_eq!(created, instants);
    assert_eq!(read, seaorm);
    for project in &seaorm {
        let one = projects::Entity::find_by_id(project.id);
        assert_eq!(
            db.one(one.clone()).await.expect("read"),
            Some(project.clone())
        );
        assert_eq!(
            one.one(db.conn()).await.expect("SeaORM").as_ref(),
            Some(project)
        );
    }

    let query = users::Entity::find().order_by_asc(users::Column::Email);
    let read: Vec<users::Model> = db.all(&query).await.expect("read");
    let seaorm = query.clone().all(db.conn()).await.expect("SeaORM");
    assert_eq!(read.len(), 3);
    assert!(read.iter().any(|u| u.totp_last_step == Some(41)));
    assert!(read.iter().any(|u| u.totp_last_step.is_none()));
    let verified: Vec<_> = read.iter().map(|u| u.email_verified_at).collect();
    assert_eq!(verified, [None, Some(instants[1]), None]);
    assert_eq!(read, seaorm);

    let none = projects::Entity::find_by_id(uuid::Uuid::new_v4());
    assert_eq!(db.one(none).await.expect("read"), None);
}

#[tokio::test]
async fn a_failing_read_fails_as_seaorms_does_and_the_next_read_works() {
    let app = spawn_app().await;
    let cx = app.anonymous();
    let db = cx.db();
    let stmt = Statement::from_string(db.backend(), "SELECT * FROM no_such_table");
    let read = db
        .all_statement::<projects::Model>(stmt.clone())
        .await
        .expect_err("no such table");
    let seaorm = projects::Entity::find()
        .from_raw_sql(stmt)
        .all(db.conn())
        .await
        .expect_err("no such table");
    assert!(matches!(read, DbErr::Query(_)), "{read:?}");
    assert!(matches!(seaorm, DbErr::Query(_)), "{seaorm:?}");
    assert_eq!(read.to_string(), seaorm.to_string());
    let query = projects::Entity::find();
    let rows: Vec<projects::Model> = db.all(&query).await.expect("the next read");
    assert!(rows.is_empty());
}

#[tokio::test]
async fn a_select_list_in_another_order_or_of_another_type_is_an_error_not_misread_data() {
    let app = spawn_app().await;
    let owner = app.user("reads-order@example.com").await;
    for i in 0..3 {
        create_project(&app, &owner, &format!("order {i}"), "public").await;
    }
    let cx = app.anonymous();
    let db = cx.db();
    let backend = db.backend();
    let read = |sql: &str| {
        let stmt = Statement::from_string(backend, sql.to_owned());
        async move { db.all_statement::<projects::Model>(stmt).await }
    };

    // Two text columns swapped: every value would decode, as the wrong field.
    let err = read(
        "SELECT id, owner_id, description, name, visibility, created_at, updated_at, version \
         FROM projects",
    )
    .await
    .expect_err("names are checked");
    assert!(err.to_string().contains("description"), "{err}");

    // The right names over the wrong types: the first row's values are type-checked.
    if backend == DbBackend::Postgres {
        read(
            "SELECT id, owner_id, name, version AS description, visibility, created_at, \
             updated_at, version FROM projects",
        )
        .await
        .expect_err("types are checked");
    }
}
