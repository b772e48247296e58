//! Label batches on a page: allocate a block of fresh codes for a site or one of its
//! benches, download its sheets or send them to the site's printer, and see which
//! codes are still unclaimed and which were printed more than once.

use super::{Choice, site_choices, site_names, sites};
use crate::config::WebSettings;
use crate::db::Db;
use crate::printing::LabelSettings;
use crate::routes::{print_on, read, write};
use crate::service::labels;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{
    Chrome, Fields, check_csrf, error_page, form_submit, html, parsed, query_param, see_other,
};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::*;
use filiere_shared::label::SheetKind;
use filiere_shared::*;

pub struct BatchLine {
    pub id: i64,
    pub site: String,
    pub bench: String,
    pub count: i32,
    pub unclaimed: i64,
    pub created: String,
}

#[derive(Template)]
#[template(path = "coordination/labels.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub sites: Vec<Choice>,
    pub benches: Vec<Choice>,
    pub count: i64,
    pub batches: Vec<BatchLine>,
}

pub async fn list(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let site: Option<i64> = query_param(&req, "site").and_then(|s| s.parse().ok());
    let count: i64 = query_param(&req, "count")
        .and_then(|s| s.parse().ok())
        .filter(|n| (1..=10_000).contains(n))
        .unwrap_or(50);
    let found = page_read(&req, &v, &db, move |c, a| {
        let all_sites = sites(c, a)?;
        Ok((
            site_choices(&all_sites, a, site),
            site_names(&all_sites),
            labels::benches(c, a)?,
            labels::list(c, a, None)?,
        ))
    })
    .await;
    let (sites, names, benches, batches) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let bench_names: std::collections::HashMap<i64, String> =
        benches.iter().map(|b| (b.id.0, b.name.clone())).collect();
    let page = ListPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Étiquettes", "Labels"), "/labels"),
        sites,
        benches: benches
            .iter()
            .map(|b| {
                let site = names.get(&b.site.0).cloned().unwrap_or_default();
                Choice::new(b.id.0, format!("{} — {site}", b.name), false)
            })
            .collect(),
        count,
        batches: batches
            .iter()
            .map(|b| BatchLine {
                id: b.id.0,
                site: names.get(&b.site.0).cloned().unwrap_or_default(),
                bench: b
                    .bench
                    .and_then(|x| bench_names.get(&x.0).cloned())
                    .unwrap_or_default(),
                count: b.count,
                unclaimed: b.unclaimed,
                created: settings.clock.long(b.created_at, lang),
            })
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

pub async fn allocate(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_submit(req, db, body, |c, a, f| {
        let batch = labels::allocate(
            c,
            a,
            &NewLabelBatch {
                site: SiteId(parsed(
                    a,
                    f,
                    "site",
                    "choisissez le site",
                    "choose the site",
                )?),
                count: parsed(
                    a,
                    f,
                    "count",
                    "nombre d'étiquettes attendu (1 à 10 000)",
                    "a number of labels is expected (1 to 10,000)",
                )?,
                bench: crate::web::parsed_opt(a, f, "bench", "poste", "bench")?.map(BenchId),
            },
        )?;
        Ok(format!("/labels/{}", batch.id))
    })
    .await
}

pub struct CodeRow {
    pub code: String,
    pub claimed: bool,
    pub prints: i32,
    pub reprinted: bool,
    pub last_printed: String,
}

#[derive(Template)]
#[template(path = "coordination/label_batch.html")]
pub struct BatchPage {
    pub chrome: Chrome,
    pub id: i64,
    pub site: String,
    pub count: i32,
    pub unclaimed: i64,
    pub reprinted: usize,
    pub codes: Vec<CodeRow>,
    pub printers: Vec<Choice>,
    pub sheets: Vec<&'static str>,
}

pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = LabelBatchId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        let (batch, codes) = labels::batch_codes(c, a, id)?;
        let printers = labels::list_printers(c, a, Some(batch.site))?;
        Ok((batch, codes, printers, site_names(&sites(c, a)?)))
    })
    .await;
    let (batch, codes, printers, names) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let rows: Vec<CodeRow> = codes
        .iter()
        .map(|c| CodeRow {
            code: c.code.hyphenated(),
            claimed: c.item.is_some(),
            prints: c.print_count,
            reprinted: c.print_count > 1,
            last_printed: c
                .last_printed_at
                .map(|t| settings.clock.long(t, lang))
                .unwrap_or_default(),
        })
        .collect();
    let notice = query_param(&req, "printed").map(|n| {
        format!(
            "{n} {}",
            lang.pick(
                "étiquette(s) envoyée(s) à l'imprimante.",
                "label(s) sent to the printer."
            )
        )
    });
    let page = BatchPage {
        chrome: Chrome::for_visitor(
            &v,
            &format!(
                "{} {}",
                lang.pick("Lot d'étiquettes", "Label batch"),
                batch.id
            ),
            "/labels",
        )
        .with_notice(notice)
        .with_error_code(query_param(&req, "error").as_deref()),
        id: batch.id.0,
        site: names.get(&batch.site.0).cloned().unwrap_or_default(),
        count: batch.count,
        unclaimed: batch.unclaimed,
        reprinted: rows.iter().filter(|r| r.reprinted && !r.claimed).count(),
        codes: rows,
        printers: printers
            .iter()
            .filter(|p| p.active)
            .map(|p| Choice::new(p.id.0, format!("{} ({})", p.name, p.media), false))
            .collect(),
        sheets: SheetKind::ALL.iter().map(|s| s.as_str()).collect(),
    };
    html(StatusCode::OK, page.render())
}

/// Which codes a form asks for: the unclaimed ones of the batch (the default), or all.
async fn source(
    db: &Data<Db>,
    actor: &crate::auth::Actor,
    id: LabelBatchId,
    all: bool,
) -> crate::error::ApiResult<LabelSource> {
    if all {
        return Ok(LabelSource::Batch(id));
    }
    let a = actor.clone();
    let (_, codes) = read(db, move |c| labels::batch_codes(c, &a, id)).await?;
    Ok(LabelSource::Codes(
        codes
            .iter()
            .filter(|c| c.item.is_none())
            .map(|c| c.code.to_string())
            .collect(),
    ))
}

fn template(f: &Fields) -> String {
    match f.get("template") {
        "" => "intake".to_owned(),
        t => t.to_owned(),
    }
}

/// The batch's sheets as a PDF (counted as printed).
pub async fn sheet(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<LabelSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let id = LabelBatchId(id.into_inner());
    let result = async {
        let source = source(&db, &v.actor, id, f.get("which") == "all").await?;
        let sheet = SheetKind::parse(f.get("sheet")).unwrap_or(SheetKind::L7160);
        let start_slot = match f.get("start_slot") {
            "" => None,
            s => Some(
                s.parse::<u32>()
                    .map_err(|_| v.actor.err(ErrorCode::InvalidInput))?,
            ),
        };
        let request = LabelRequest {
            source,
            template: template(&f),
            format: LabelFormat::Pdf,
            sheet: Some(sheet),
            start_slot,
            media: None,
            dpi: None,
            lang: None,
            preview: false,
        };
        let a = v.actor.clone();
        let s = settings.into_inner();
        let rendered = read(&db, move |c| labels::render(c, &a, &request, &s)).await?;
        let codes = rendered.codes.clone();
        write(&db, move |c| labels::record_prints(c, &codes)).await?;
        Ok::<_, crate::error::ApiError>(rendered)
    }
    .await;
    match result {
        Ok(r) => HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((
                "Content-Disposition",
                format!("inline; filename=\"etiquettes-lot-{id}.pdf\""),
            ))
            .body(r.bytes),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

/// Sends the batch's labels to one of the site's printers.
pub async fn print(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<LabelSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let id = LabelBatchId(id.into_inner());
    let result = async {
        let source = source(&db, &v.actor, id, f.get("which") == "all").await?;
        let printer = PrinterId(
            f.get("printer")
                .parse()
                .map_err(|_| v.actor.err(ErrorCode::PrinterNotFound))?,
        );
        let request = PrintRequest {
            printer,
            source,
            template: template(&f),
            start_slot: None,
            lang: None,
        };
        print_on(&db, settings.into_inner(), &v.actor, request).await
    }
    .await;
    match result {
        Ok(r) => see_other(&format!("/labels/{id}?printed={}", r.labels)),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}
