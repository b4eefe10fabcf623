//! Rows read by column position (src/db/positional.rs): the same models as SeaORM's own
//! decoding, on both backends, and a select list that does not match fails instead of reading
//! one column as another.

use neoforge::db::positional::decode_all;
use neoforge::entity::{projects, users};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement};

use crate::common::spawn_app;
use crate::rest::create_project;

#[tokio::test]
async fn positional_reads_equal_seaorms_decoding_for_every_row_and_column() {
    let app = spawn_app().await;
    let owner = app.user("rows-owner@example.com").await;
    app.user("rows-other@example.com").await;
    app.user("rows-third@example.com").await;
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
        .filter(users::Column::Email.eq("rows-other@example.com"))
        .exec(db.conn())
        .await
        .expect("update");
    // Timestamps either side of both epochs (PostgreSQL counts from 2000, Unix from 1970),
    // to the microsecond, on rows after the first (read without sqlx's decoding there).
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
        .filter(users::Column::Email.eq("rows-owner@example.com"))
        .exec(db.conn())
        .await
        .expect("update");

    let query = projects::Entity::find().order_by_asc(projects::Column::Name);
    let positional: Vec<projects::Model> = db.all(&query).await.expect("positional");
    let derived = query.clone().all(db.conn()).await.expect("derived");
    assert_eq!(positional.len(), 7);
    let read: Vec<_> = positional.iter().map(|p| p.created_at).collect();
    assert_eq!(read, instants);
    assert_eq!(positional, derived);

    let query = users::Entity::find().order_by_asc(users::Column::Email);
    let positional: Vec<users::Model> = db.all(&query).await.expect("positional");
    let derived = query.clone().all(db.conn()).await.expect("derived");
    assert_eq!(positional.len(), 3);
    assert!(positional.iter().any(|u| u.totp_last_step == Some(41)));
    assert!(positional.iter().any(|u| u.totp_last_step.is_none()));
    let verified: Vec<_> = positional.iter().map(|u| u.email_verified_at).collect();
    assert_eq!(verified, [None, Some(instants[1]), None]);
    assert_eq!(positional, derived);
}

#[tokio::test]
async fn a_select_list_in_another_order_or_of_another_type_is_an_error_not_misread_data() {
    let app = spawn_app().await;
    let owner = app.user("rows-order@example.com").await;
    for i in 0..3 {
        create_project(&app, &owner, &format!("order {i}"), "public").await;
    }
    let cx = app.anonymous();
    let db = cx.db();
    let backend = db.backend();
    let rows = |sql: &str| {
        let stmt = Statement::from_string(backend, sql.to_owned());
        async move { db.query_all(stmt).await.expect("query") }
    };

    // Two text columns swapped: every value would decode, as the wrong field.
    let swapped = rows(
        "SELECT id, owner_id, description, name, visibility, created_at, updated_at, version \
         FROM projects",
    )
    .await;
    let err = decode_all::<projects::Model>(&swapped).expect_err("names are checked");
    assert!(err.to_string().contains("description"), "{err}");

    // The right names over the wrong types: the first row's values are type-checked.
    if backend == DbBackend::Postgres {
        let retyped = rows(
            "SELECT id, owner_id, name, version AS description, visibility, created_at, \
             updated_at, version FROM projects",
        )
        .await;
        assert_eq!(retyped.len(), 3);
        decode_all::<projects::Model>(&retyped).expect_err("types are checked");
    }
}
