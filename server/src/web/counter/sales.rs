//! Sales and after-sales pages: the list (a technician's site's, a coordinator's
//! region's, a social worker's organisation's beneficiaries'), a sale's page with its
//! invoice and credit notes, and the after-sales forms (a return, then a repair, an
//! exchange or a refund, and the repaired device handed back).

use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{pdf_response, read};
use crate::service::{after_sales, documents, items, sales as service};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, Visitor, error_page, form_action, html};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::Resolved;
use filiere_shared::names::Named;
use filiere_shared::sales::*;
use filiere_shared::*;

pub struct SaleRow {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub credit: bool,
    pub date: String,
    pub buyer: String,
    pub site: String,
    pub total: String,
    pub devices: String,
}

fn sale_row(s: &SaleView, clock: crate::clock::Clock, lang: Lang) -> SaleRow {
    SaleRow {
        id: s.id.0,
        number: s.number.clone(),
        kind: s.kind.name(lang).to_owned(),
        credit: s.kind == SaleKind::CreditNote,
        date: clock.day(s.sold_at),
        buyer: s.buyer.clone(),
        site: s.site_name.clone(),
        total: format_euros(s.total_cents, lang),
        devices: s
            .lines
            .iter()
            .map(|l| filiere_shared::code::LabelCode::readable(&l.code))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[derive(Template)]
#[template(path = "counter/sales.html")]
pub struct SalesPage {
    pub chrome: Chrome,
    pub rows: Vec<SaleRow>,
    pub year: String,
    pub credit_only: bool,
}

pub async fn list(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let year = crate::web::query_param(&req, "year");
    let kind = crate::web::query_param(&req, "kind").and_then(|k| k.parse::<SaleKind>().ok());
    let q = SaleQuery {
        year: match year.as_deref().map(str::parse::<i32>) {
            Some(Ok(y)) => Some(y),
            Some(Err(_)) => {
                return error_page(&req, Some(&v), &ApiError::new(ErrorCode::InvalidQuery));
            }
            None => None,
        },
        kind,
        ..SaleQuery::default()
    };
    let rows = match page_read(&req, &v, &db, move |c, a| service::list(c, a, &q)).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let page = SalesPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Ventes", "Sales"), "/sales"),
        rows: rows
            .iter()
            .map(|s| sale_row(s, settings.clock, lang))
            .collect(),
        year: year.unwrap_or_default(),
        credit_only: kind == Some(SaleKind::CreditNote),
    };
    html(StatusCode::OK, page.render())
}

pub struct LineRow {
    pub item: i64,
    pub code: String,
    pub device: String,
    pub price: String,
    pub until: String,
    pub status: String,
    /// A return may be opened: with the buyer, within the guarantee.
    pub returnable: bool,
}

pub struct CaseRow {
    pub id: i64,
    pub code: String,
    pub opened: String,
    pub reason: String,
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    /// Waiting for a decision.
    pub undecided: bool,
    /// Being repaired: to hand back once tested again.
    pub repairing: bool,
    pub credit_note: Option<i64>,
    pub replacement_sale: Option<i64>,
}

#[derive(Template)]
#[template(path = "counter/sale.html")]
pub struct SalePage {
    pub chrome: Chrome,
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub credit: bool,
    pub date: String,
    pub seller: String,
    pub site: String,
    pub buyer: String,
    pub partner: bool,
    pub reason: Option<String>,
    pub reservation: Option<i64>,
    pub credits: Option<i64>,
    pub lines: Vec<LineRow>,
    pub payments: Vec<(String, String)>,
    pub total: String,
    pub vat: String,
    pub cases: Vec<CaseRow>,
    pub staff: bool,
    pub social: bool,
    pub methods: Vec<super::Method>,
}

pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let id = SaleId(id.into_inner());
    match page_read(&req, &v, &db, move |c, a| service::get(c, a, id)).await {
        Ok(s) => sale_page(&req, &v, &s, settings.clock),
        Err(r) => r,
    }
}

fn sale_page(
    req: &HttpRequest,
    v: &Visitor,
    s: &SaleView,
    clock: crate::clock::Clock,
) -> HttpResponse {
    let lang = v.lang();
    let today = clock.date(chrono::Utc::now());
    let staff = matches!(v.actor.role, Role::Technician | Role::Coordinator);
    let notice = match crate::web::query_param(req, "done").as_deref() {
        Some("sold") => Some(lang.pick(
            "Vente enregistrée. Imprimez ou envoyez la facture.",
            "Sale recorded. Print or send the invoice.",
        )),
        Some("returned") => Some(lang.pick(
            "Retour enregistré : choisissez réparation, échange ou remboursement.",
            "Return recorded: choose repair, exchange or refund.",
        )),
        Some("repair") => Some(lang.pick(
            "Appareil parti en réparation : au poste, testez-le à nouveau, puis rendez-le ici.",
            "Device sent for repair: test it again at the bench, then hand it back here.",
        )),
        Some("exchange") => Some(lang.pick(
            "Échange fait : un avoir et une nouvelle facture ont été émis.",
            "Exchanged: a credit note and a new invoice were issued.",
        )),
        Some("refund") => Some(lang.pick(
            "Remboursement fait : un avoir a été émis.",
            "Refunded: a credit note was issued.",
        )),
        Some("handed_back") => Some(lang.pick(
            "Appareil rendu réparé ; la garantie court six mois de plus.",
            "Device handed back repaired; the guarantee runs six months longer.",
        )),
        _ => None,
    };
    let chrome = Chrome::for_visitor(v, &format!("{} {}", s.kind.name(lang), s.number), "/sales")
        .with_error_code(crate::web::query_param(req, "error").as_deref())
        .with_notice(notice.map(str::to_owned));
    let page = SalePage {
        chrome,
        id: s.id.0,
        number: s.number.clone(),
        kind: s.kind.name(lang).to_owned(),
        credit: s.kind == SaleKind::CreditNote,
        date: clock.day(s.sold_at),
        seller: s.seller_name.clone(),
        site: s.site_name.clone(),
        buyer: s.buyer.clone(),
        partner: s.partner.is_some(),
        reason: s.reason.clone(),
        reservation: s.reservation.map(|r| r.0),
        credits: s.credits.map(|c| c.0),
        lines: s
            .lines
            .iter()
            .map(|l| LineRow {
                item: l.item.0,
                code: filiere_shared::code::LabelCode::readable(&l.code),
                device: [
                    Some(l.category.name(lang)),
                    l.brand.as_deref(),
                    l.model.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
                price: format_euros(l.price_cents, lang),
                until: l
                    .guarantee_until
                    .map(|d| clock.date_text(d))
                    .unwrap_or_else(|| "—".into()),
                status: l.status.name(lang).to_owned(),
                returnable: s.kind == SaleKind::Invoice
                    && l.status == SaleLineStatus::Sold
                    && l.guarantee_until.is_some_and(|d| under_guarantee(d, today)),
            })
            .collect(),
        payments: s
            .payments
            .iter()
            .map(|p| {
                let what = match (s.kind, p.method, &p.reference) {
                    (SaleKind::CreditNote, PaymentMethod::CreditNote, Some(r)) => format!(
                        "{} {r}",
                        lang.pick("Imputé sur la facture", "Set against invoice")
                    ),
                    (_, m, Some(r)) => format!("{} ({r})", m.name(lang)),
                    (_, m, None) => m.name(lang).to_owned(),
                };
                (what, format_euros(p.amount_cents, lang))
            })
            .collect(),
        total: format_euros(s.total_cents, lang),
        vat: s.vat_scheme.name(lang).to_owned(),
        cases: s
            .after_sales
            .iter()
            .map(|c| CaseRow {
                id: c.id.0,
                code: filiere_shared::code::LabelCode::readable(&c.code),
                opened: clock.day(c.opened_at),
                reason: c.reason.clone(),
                outcome: c.outcome.map(|o| o.name(lang).to_owned()),
                outcome_reason: c.outcome_reason.clone(),
                undecided: c.outcome.is_none(),
                repairing: c.open && c.outcome == Some(AfterSalesOutcome::Repair),
                credit_note: c.credit_note.map(|x| x.0),
                replacement_sale: c.replacement_sale.map(|x| x.0),
            })
            .collect(),
        staff,
        social: v.actor.role == Role::SocialWorker,
        methods: super::methods(lang),
    };
    html(StatusCode::OK, page.render())
}

pub async fn invoice(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let id = SaleId(id.into_inner());
    let clock = settings.clock;
    let actor = v.actor.clone();
    match read(&db, move |c| documents::invoice_pdf(c, &actor, id, clock)).await {
        Ok(pdf) => pdf_response(pdf, &format!("facture-{id}.pdf")),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

fn reason_of(a: &crate::auth::Actor, f: &crate::web::Fields) -> Result<String, ApiError> {
    f.opt("reason").ok_or_else(|| {
        ApiError::field(
            filiere_shared::validate::FieldError::new(
                "reason",
                "indiquez la raison",
                "give the reason",
            ),
            a.lang,
        )
    })
}

/// A device of the sale brought back.
pub async fn open_return(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let clock = settings.clock;
    let id = id.into_inner();
    form_action(
        req,
        db,
        body,
        Some(format!("/sales/{id}")),
        move |c, a, f| {
            let item: i64 = f
                .get("item")
                .parse()
                .map_err(|_| a.err(ErrorCode::ItemNotFound))?;
            let reason = reason_of(a, f)?;
            after_sales::open_return(
                c,
                a,
                SaleId(id),
                &NewReturn {
                    item: ItemId(item),
                    reason,
                },
                clock,
            )
            .map(|_| format!("/sales/{id}?done=returned"))
        },
    )
    .await
}

/// After-sales' decision on a returned device.
pub async fn settle(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let clock = settings.clock;
    let case = id.into_inner();
    form_action(req, db, body, None, move |c, a, f| {
        let outcome: AfterSalesOutcome = f
            .get("outcome")
            .parse()
            .map_err(|_| a.err(ErrorCode::InvalidInput))?;
        let reason = reason_of(a, f)?;
        let replacement = match f.opt("replacement") {
            Some(code) => match items::resolve(c, &code, a)? {
                Resolved::Item { item, .. } => Some(item.id),
                _ => return Err(a.err(ErrorCode::ItemNotFound)),
            },
            None => None,
        };
        let refund_method = f.opt("refund_method").and_then(|m| m.parse().ok());
        let sale = after_sales::settle(
            c,
            a,
            AfterSalesId(case),
            &SettleAfterSales {
                outcome,
                reason,
                replacement,
                refund_method,
            },
            clock,
        )?;
        Ok(format!("/sales/{}?done={}", sale.id, outcome.as_str()))
    })
    .await
}

/// The repaired device handed back.
pub async fn hand_back(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let clock = settings.clock;
    let case = id.into_inner();
    form_action(req, db, body, None, move |c, a, _| {
        let sale = after_sales::hand_back(c, a, AfterSalesId(case), clock)?;
        Ok(format!("/sales/{}?done=handed_back", sale.id))
    })
    .await
}
