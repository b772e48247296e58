//! Label batches: blocks of fresh codes allocated to a site or a bench.

use super::{check, site_region};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{benches, label_batches, label_codes, sites};
use diesel::dsl::count_star;
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::validate;
use filiere_shared::*;
use rand::Rng;

/// Draws a fresh code: 7 random symbols, drawn again while the check symbol would fall
/// outside the alphabet or the code has no digit (so that an AZERTY mix-up always shows).
pub fn draw_code(rng: &mut impl Rng) -> LabelCode {
    loop {
        let mut body = [0u8; 7];
        for s in &mut body {
            *s = rng.random_range(0..32);
        }
        if let Some(code) = LabelCode::from_symbols(body)
            && code.is_scanner_safe()
        {
            return code;
        }
    }
}

/// Narrows a boxed query joined with `sites` to the caller's scope: a technician's
/// site, a coordinator's region (admins see everything).
macro_rules! in_scope {
    ($q:expr, $actor:expr, $site:expr) => {
        match $actor.role {
            Role::Technician => $q.filter($site.eq($actor.site.map(|s| s.0).unwrap_or(-1))),
            Role::Coordinator => {
                $q.filter(sites::region_id.eq($actor.region.map(|r| r.0).unwrap_or(-1)))
            }
            _ => $q,
        }
    };
}

/// Refuses a bench that does not exist or belongs to another site.
fn bench_at_site(
    conn: &mut DbConnection,
    actor: &Actor,
    bench: BenchId,
    site: SiteId,
) -> ApiResult<()> {
    let at: Option<i64> = benches::table
        .find(bench.0)
        .select(benches::site_id)
        .first(conn)
        .optional()?;
    match at {
        None => Err(actor.err(ErrorCode::BenchNotFound)),
        Some(s) if s != site.0 => Err(actor.out_of_scope()),
        Some(_) => Ok(()),
    }
}

fn staff(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])
}

pub fn allocate(
    conn: &mut DbConnection,
    actor: &Actor,
    b: &NewLabelBatch,
) -> ApiResult<LabelBatchView> {
    staff(actor)?;
    check(actor, validate::range("count", b.count.into(), 1, 10_000))?;
    let region = site_region(conn, b.site, actor)?;
    actor.require_site(b.site, region)?;
    if let Some(bench) = b.bench {
        bench_at_site(conn, actor, bench, b.site)?;
    }
    let at = now();
    let id: i64 = diesel::insert_into(label_batches::table)
        .values(NewLabelBatchRow {
            site_id: b.site.0,
            bench_id: b.bench.map(|x| x.0),
            count: b.count,
            created_by: actor.user.0,
            created_at: at,
        })
        .returning(label_batches::id)
        .get_result(conn)?;
    let mut rng = rand::rng();
    let mut codes = Vec::with_capacity(b.count as usize);
    while codes.len() < b.count as usize {
        let code = draw_code(&mut rng);
        let taken: Option<String> = label_codes::table
            .find(code.as_str())
            .select(label_codes::code)
            .first(conn)
            .optional()?;
        if taken.is_some() || codes.contains(&code) {
            continue;
        }
        diesel::insert_into(label_codes::table)
            .values(NewLabelCodeRow {
                code: code.as_str().to_owned(),
                batch_id: id,
                item_id: None,
                claimed_at: None,
                print_count: 0,
                last_printed_at: None,
            })
            .execute(conn)?;
        codes.push(code);
    }
    Ok(LabelBatchView {
        id: LabelBatchId(id),
        site: b.site,
        bench: b.bench,
        count: b.count,
        unclaimed: b.count.into(),
        created_at: utc(at),
        codes,
    })
}

/// Label batches of the caller's scope, each with its unclaimed codes.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    site: Option<SiteId>,
) -> ApiResult<Vec<LabelBatchView>> {
    staff(actor)?;
    let mut q = label_batches::table
        .inner_join(sites::table)
        .select(label_batches::all_columns)
        .order(label_batches::id.desc())
        .limit(200)
        .into_boxed();
    q = in_scope!(q, actor, label_batches::site_id);
    if let Some(s) = site {
        q = q.filter(label_batches::site_id.eq(s.0));
    }
    let rows: Vec<LabelBatchRow> = q.load(conn)?;
    let mut out = Vec::new();
    for r in rows {
        let codes: Vec<String> = label_codes::table
            .filter(label_codes::batch_id.eq(r.id))
            .filter(label_codes::item_id.is_null())
            .select(label_codes::code)
            .order(label_codes::code)
            .load(conn)?;
        let unclaimed: i64 = label_codes::table
            .filter(label_codes::batch_id.eq(r.id))
            .filter(label_codes::item_id.is_null())
            .select(count_star())
            .first(conn)?;
        out.push(LabelBatchView {
            id: LabelBatchId(r.id),
            site: SiteId(r.site_id),
            bench: r.bench_id.map(BenchId),
            count: r.count,
            unclaimed,
            created_at: utc(r.created_at),
            codes: codes
                .iter()
                .map(|c| LabelCode::parse(c).map_err(ApiError::internal))
                .collect::<ApiResult<_>>()?,
        });
    }
    Ok(out)
}

/// The benches of the caller's scope (a technician's site, a coordinator's region).
pub fn benches(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<BenchView>> {
    staff(actor)?;
    let mut q = benches::table
        .inner_join(sites::table)
        .select(benches::all_columns)
        .filter(benches::active.eq(true))
        .order(benches::id)
        .into_boxed();
    q = in_scope!(q, actor, benches::site_id);
    let rows: Vec<BenchRow> = q.load(conn)?;
    Ok(rows.iter().map(super::admin::bench_view).collect())
}

/// One code of a batch, as its page lists it.
pub struct CodeLine {
    pub code: LabelCode,
    pub item: Option<ItemId>,
    pub print_count: i32,
    pub last_printed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A batch of the caller's scope with every code: claimed or not, printed how often.
pub fn batch_codes(
    conn: &mut DbConnection,
    actor: &Actor,
    id: LabelBatchId,
) -> ApiResult<(LabelBatchView, Vec<CodeLine>)> {
    staff(actor)?;
    let r: LabelBatchRow = label_batches::table
        .find(id.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::LabelBatchNotFound))?;
    let region = site_region(conn, SiteId(r.site_id), actor)?;
    if !actor.covers_site(SiteId(r.site_id), region) {
        return Err(actor.err(ErrorCode::LabelBatchNotFound));
    }
    let rows: Vec<LabelCodeRow> = label_codes::table
        .filter(label_codes::batch_id.eq(r.id))
        .order(label_codes::code)
        .load(conn)?;
    let lines = rows
        .iter()
        .map(|c| {
            Ok(CodeLine {
                code: LabelCode::parse(&c.code).map_err(ApiError::internal)?,
                item: c.item_id.map(ItemId),
                print_count: c.print_count,
                last_printed_at: c.last_printed_at.map(utc),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let view = LabelBatchView {
        id: LabelBatchId(r.id),
        site: SiteId(r.site_id),
        bench: r.bench_id.map(BenchId),
        count: r.count,
        unclaimed: lines.iter().filter(|l| l.item.is_none()).count() as i64,
        created_at: utc(r.created_at),
        codes: Vec::new(),
    };
    Ok((view, lines))
}

// ---------------------------------------------------------------- rendering

use crate::printing::LabelSettings;
use crate::schema::{erasure_records, items, label_templates, printers};
use filiere_shared::label::{
    self, Dpi, LabelData, LabelError, Layout, RenderOptions, SheetKind, Template,
};
use std::collections::HashMap;

/// A code to lay sample labels out with.
fn sample_code() -> LabelCode {
    (0u8..32)
        .find_map(|s| LabelCode::from_symbols([7, 19, 3, 20, 9, 23, s]))
        .unwrap_or_else(|| draw_code(&mut rand::rng()))
}

/// A label error in the caller's language, with the code that says what to change.
pub fn label_error(e: &LabelError, lang: Lang) -> ApiError {
    let code = match e {
        LabelError::ModuleTooSmall { .. } | LabelError::QuietZoneTooSmall { .. } => {
            ErrorCode::LabelUnscannable
        }
        LabelError::FieldsDoNotFit { .. } => ErrorCode::LabelDoesNotFit,
        LabelError::InvalidTemplate(_) => ErrorCode::InvalidTemplate,
        LabelError::Count(_) | LabelError::StartSlot { .. } | LabelError::QrEncoding(_) => {
            ErrorCode::InvalidValue
        }
        LabelError::Output(cause) => return ApiError::internal(cause),
    };
    let mut message = e.message(lang);
    if let Some(first) = message.get(0..1) {
        message = format!("{}{}.", first.to_uppercase(), &message[1..]);
    }
    ApiError::new(code).with_message(message).in_lang(lang)
}

/// One label to render: its code, the item it names (if claimed) and its prints so far.
struct Entry {
    code: LabelCode,
    item: Option<ItemRow>,
    site: i64,
    print_count: i32,
}

fn count_error(actor: &Actor, n: usize) -> ApiError {
    ApiError::field(
        validate::FieldError::new(
            "source",
            format!(
                "de 1 à {} étiquettes par demande, pas {n}",
                label::MAX_LABELS
            ),
            format!("1 to {} labels per request, not {n}", label::MAX_LABELS),
        ),
        actor.lang,
    )
}

/// The site's region, memoised over one request.
fn region_of(
    conn: &mut DbConnection,
    actor: &Actor,
    cache: &mut HashMap<i64, RegionId>,
    site: i64,
) -> ApiResult<RegionId> {
    if let Some(r) = cache.get(&site) {
        return Ok(*r);
    }
    let r = site_region(conn, SiteId(site), actor)?;
    cache.insert(site, r);
    Ok(r)
}

fn collect(conn: &mut DbConnection, actor: &Actor, source: &LabelSource) -> ApiResult<Vec<Entry>> {
    let mut regions = HashMap::new();
    let mut out = Vec::new();
    match source {
        LabelSource::Batch(id) => {
            let batch: LabelBatchRow = label_batches::table
                .find(id.0)
                .first(conn)
                .optional()?
                .ok_or_else(|| actor.err(ErrorCode::LabelBatchNotFound))?;
            let region = region_of(conn, actor, &mut regions, batch.site_id)?;
            actor.require_site(SiteId(batch.site_id), region)?;
            let rows: Vec<(String, Option<i64>, i32)> = label_codes::table
                .filter(label_codes::batch_id.eq(batch.id))
                .select((
                    label_codes::code,
                    label_codes::item_id,
                    label_codes::print_count,
                ))
                .order(label_codes::code)
                .load(conn)?;
            for (code, item_id, print_count) in rows {
                let item = match item_id {
                    Some(i) => Some(items::table.find(i).first::<ItemRow>(conn)?),
                    None => None,
                };
                out.push(Entry {
                    code: LabelCode::parse(&code).map_err(ApiError::internal)?,
                    site: item.as_ref().map(|i| i.site_id).unwrap_or(batch.site_id),
                    item,
                    print_count,
                });
            }
        }
        LabelSource::Codes(codes) => {
            if codes.is_empty() || codes.len() > label::MAX_LABELS {
                return Err(count_error(actor, codes.len()));
            }
            for input in codes {
                let code = super::events::parse_code(actor, input)?;
                let row: Option<(Option<i64>, i32, i64)> = label_codes::table
                    .inner_join(label_batches::table)
                    .filter(label_codes::code.eq(code.as_str()))
                    .select((
                        label_codes::item_id,
                        label_codes::print_count,
                        label_batches::site_id,
                    ))
                    .first(conn)
                    .optional()?;
                let Some((item_id, print_count, batch_site)) = row else {
                    return Err(actor
                        .err(ErrorCode::CodeUnknown)
                        .with_details(serde_json::json!({"code": code.as_str()})));
                };
                let item = match item_id {
                    Some(i) => Some(items::table.find(i).first::<ItemRow>(conn)?),
                    None => None,
                };
                let site = item.as_ref().map(|i| i.site_id).unwrap_or(batch_site);
                let region = region_of(conn, actor, &mut regions, site)?;
                actor.require_site(SiteId(site), region)?;
                out.push(Entry {
                    code,
                    site,
                    item,
                    print_count,
                });
            }
        }
        LabelSource::Items(ids) => collect_items(conn, actor, ids, &mut regions, &mut out)?,
        LabelSource::Item(id) => collect_items(conn, actor, &[*id], &mut regions, &mut out)?,
    }
    if out.is_empty() || out.len() > label::MAX_LABELS {
        return Err(count_error(actor, out.len()));
    }
    Ok(out)
}

fn collect_items(
    conn: &mut DbConnection,
    actor: &Actor,
    ids: &[ItemId],
    regions: &mut HashMap<i64, RegionId>,
    out: &mut Vec<Entry>,
) -> ApiResult<()> {
    if ids.is_empty() || ids.len() > label::MAX_LABELS {
        return Err(count_error(actor, ids.len()));
    }
    for id in ids {
        let row = super::items::load_item(conn, *id, actor)?;
        let region = region_of(conn, actor, regions, row.site_id)?;
        if !actor.covers_site(SiteId(row.site_id), region) {
            // As for any lookup: an item out of scope is not revealed.
            return Err(actor.err(ErrorCode::ItemNotFound));
        }
        let print_count: i32 = label_codes::table
            .find(&row.code)
            .select(label_codes::print_count)
            .first(conn)?;
        out.push(Entry {
            code: LabelCode::parse(&row.code).map_err(ApiError::internal)?,
            site: row.site_id,
            item: Some(row),
            print_count,
        });
    }
    Ok(())
}

/// A built-in template, or one of the site's own.
fn find_template(
    conn: &mut DbConnection,
    actor: &Actor,
    name: &str,
    site: i64,
) -> ApiResult<Template> {
    if let Some(t) = label::builtin_templates()
        .into_iter()
        .find(|t| t.name == name)
    {
        return Ok(t);
    }
    let definition: Option<String> = label_templates::table
        .filter(label_templates::site_id.eq(site))
        .filter(label_templates::name.eq(name))
        .select(label_templates::definition)
        .first(conn)
        .optional()?;
    match definition {
        Some(d) => serde_json::from_str(&d).map_err(ApiError::internal),
        None => Err(actor
            .err(ErrorCode::TemplateNotFound)
            .with_details(serde_json::json!({"template": name}))),
    }
}

/// The date the device's drives were last erased.
fn erased_on(conn: &mut DbConnection, item: i64) -> ApiResult<Option<chrono::NaiveDate>> {
    let at: Option<chrono::NaiveDateTime> = erasure_records::table
        .filter(erasure_records::item_id.eq(item))
        .filter(erasure_records::result.eq(ErasureResult::Erased.as_str()))
        .select(diesel::dsl::max(erasure_records::ended_at))
        .first(conn)?;
    Ok(at.map(|t| t.date()))
}

/// Rendered labels, ready to send.
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub format: LabelFormat,
    /// Every code rendered, to count as printed.
    pub codes: Vec<LabelCode>,
    /// Blank codes printed before.
    pub reprinted: Vec<LabelCode>,
}

impl Rendered {
    pub fn content_type(&self) -> &'static str {
        match self.format {
            LabelFormat::Pdf => "application/pdf",
            LabelFormat::Svg => "image/svg+xml",
            LabelFormat::Png => "image/png",
            LabelFormat::Zpl => "application/vnd.zebra.zpl; charset=utf-8",
        }
    }

    pub fn extension(&self) -> &'static str {
        match self.format {
            LabelFormat::Pdf => "pdf",
            LabelFormat::Svg => "svg",
            LabelFormat::Png => "png",
            LabelFormat::Zpl => "zpl",
        }
    }
}

/// A combination of options the labels cannot take (422).
fn bad(actor: &Actor, field: &str, fr: &str, en: &str) -> ApiError {
    ApiError::rule(validate::FieldError::new(field, fr, en), actor.lang)
}

/// Renders labels (read only: counting prints is [`record_prints`]).
pub fn render(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &LabelRequest,
    settings: &LabelSettings,
) -> ApiResult<Rendered> {
    staff(actor)?;
    let lang = req.lang.unwrap_or(actor.lang);
    // Options first: a bad request is refused before anything is looked up.
    let media = match &req.media {
        Some(m) => Some(label::media(m).ok_or_else(|| {
            bad(
                actor,
                "media",
                "format inconnu (50x25, 38x25, L7160, L7163 ou L7651)",
                "unknown size (50x25, 38x25, L7160, L7163 or L7651)",
            )
        })?),
        None => None,
    };
    let sheet = req.sheet.unwrap_or(SheetKind::L7160).sheet();
    let start_slot = req.start_slot.unwrap_or(1) as usize;
    if !(1..=label::MAX_START_SLOT).contains(&start_slot) {
        return Err(ApiError::field(
            validate::FieldError::new(
                "start_slot",
                format!("doit être entre 1 et {}", label::MAX_START_SLOT),
                format!("must be between 1 and {}", label::MAX_START_SLOT),
            ),
            actor.lang,
        ));
    }
    if req.format == LabelFormat::Pdf && start_slot > sheet.slots() {
        return Err(bad(
            actor,
            "start_slot",
            &format!("doit être entre 1 et {}", sheet.slots()),
            &format!("must be between 1 and {}", sheet.slots()),
        ));
    }
    let dpi = match req.format {
        LabelFormat::Zpl => {
            let d = req.dpi.unwrap_or(203);
            Dpi::parse(d).ok_or_else(|| {
                bad(
                    actor,
                    "dpi",
                    "203 ou 300 pour une Zebra",
                    "203 or 300 for a Zebra",
                )
            })?;
            d
        }
        LabelFormat::Png => {
            let d = req.dpi.unwrap_or(300);
            if !(150..=1200).contains(&d) {
                return Err(bad(
                    actor,
                    "dpi",
                    "entre 150 et 1200",
                    "between 150 and 1200",
                ));
            }
            d
        }
        _ => 0,
    };

    let entries = collect(conn, actor, &req.source)?;
    if matches!(req.format, LabelFormat::Svg | LabelFormat::Png) && entries.len() != 1 {
        return Err(bad(
            actor,
            "format",
            "SVG et PNG donnent une étiquette à la fois : demandez un PDF ou du ZPL pour plusieurs",
            "SVG and PNG give one label at a time: ask for PDF or ZPL for several",
        ));
    }
    let site = entries.first().map(|e| e.site).unwrap_or_default();
    let template = find_template(conn, actor, &req.template, site)?;
    let size = match req.format {
        LabelFormat::Pdf => sheet.label,
        _ => media.unwrap_or(label::ROLLS[0].1),
    };
    let options = RenderOptions {
        host: settings.public_host.clone(),
        lang,
    };
    let mut layouts: Vec<Layout> = Vec::with_capacity(entries.len());
    let mut reprinted = Vec::new();
    let mut codes = Vec::with_capacity(entries.len());
    for e in &entries {
        let data = match &e.item {
            Some(row) => {
                let view = super::items::view(row, Vec::new(), lang)?;
                LabelData::item(&view, erased_on(conn, row.id)?)
            }
            None if template.needs_item() => {
                return Err(actor
                    .err(ErrorCode::LabelNeedsItem)
                    .with_details(serde_json::json!({"code": e.code.as_str()})));
            }
            None => LabelData::blank(e.code),
        };
        if e.item.is_none() && e.print_count > 0 {
            reprinted.push(e.code);
        }
        codes.push(e.code);
        layouts.push(
            label::layout(&template, size, &data, &options).map_err(|x| label_error(&x, lang))?,
        );
    }
    let bytes = match req.format {
        LabelFormat::Pdf => label::pdf_sheet(&sheet, &layouts, start_slot),
        LabelFormat::Zpl => {
            let d = Dpi::parse(dpi).unwrap_or(Dpi::D203);
            label::zpl(&layouts, d).map(String::into_bytes)
        }
        LabelFormat::Svg => Ok(layouts
            .first()
            .map(|l| label::svg(l).into_bytes())
            .unwrap_or_default()),
        LabelFormat::Png => match layouts.first() {
            Some(l) => label::png(l, dpi),
            None => Err(LabelError::Count(0)),
        },
    }
    .map_err(|x| label_error(&x, lang))?;
    Ok(Rendered {
        bytes,
        format: req.format,
        codes,
        reprinted,
    })
}

/// Counts one print of each code.
pub fn record_prints(conn: &mut DbConnection, codes: &[LabelCode]) -> ApiResult<()> {
    let at = now();
    for chunk in codes.chunks(500) {
        let keys: Vec<&str> = chunk.iter().map(|c| c.as_str()).collect();
        diesel::update(label_codes::table.filter(label_codes::code.eq_any(keys)))
            .set((
                label_codes::print_count.eq(label_codes::print_count + 1),
                label_codes::last_printed_at.eq(Some(at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- printers

fn printer_view(r: &PrinterRow) -> ApiResult<PrinterView> {
    Ok(PrinterView {
        id: PrinterId(r.id),
        site: SiteId(r.site_id),
        bench: r.bench_id.map(BenchId),
        name: r.name.clone(),
        kind: match r.kind.as_str() {
            "zpl" => PrinterKind::Zpl,
            "cups" => PrinterKind::Cups,
            other => return Err(ApiError::internal(format!("stored printer kind {other}"))),
        },
        address: r.address.clone(),
        dpi: r.dpi.map(|d| d as u32),
        media: r.media.clone(),
        active: r.active,
    })
}

/// Printers of the caller's scope (a technician: their site's).
pub fn list_printers(
    conn: &mut DbConnection,
    actor: &Actor,
    site: Option<SiteId>,
) -> ApiResult<Vec<PrinterView>> {
    staff(actor)?;
    let mut q = printers::table
        .inner_join(sites::table)
        .select(printers::all_columns)
        .order(printers::id)
        .into_boxed();
    q = in_scope!(q, actor, printers::site_id);
    if let Some(s) = site {
        q = q.filter(printers::site_id.eq(s.0));
    }
    let rows: Vec<PrinterRow> = q.load(conn)?;
    rows.iter().map(printer_view).collect()
}

/// Adds a printer to a site or one of its benches (coordinators of the region, admins).
pub fn create_printer(
    conn: &mut DbConnection,
    actor: &Actor,
    p: &NewPrinter,
) -> ApiResult<PrinterView> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    check(actor, validate::text("name", &p.name, 100))?;
    check(actor, validate::text("address", &p.address, 200))?;
    if p.address.trim().contains(char::is_whitespace) {
        return Err(bad(actor, "address", "sans espace", "without spaces"));
    }
    match p.kind {
        PrinterKind::Zpl => {
            if p.dpi.and_then(Dpi::parse).is_none() {
                return Err(bad(
                    actor,
                    "dpi",
                    "203 ou 300 pour une Zebra",
                    "203 or 300 for a Zebra",
                ));
            }
            if !label::ROLLS.iter().any(|(n, _)| *n == p.media) {
                return Err(bad(actor, "media", "50x25 ou 38x25", "50x25 or 38x25"));
            }
        }
        PrinterKind::Cups => {
            if p.dpi.is_some() {
                return Err(bad(
                    actor,
                    "dpi",
                    "sans objet pour CUPS",
                    "not used for CUPS",
                ));
            }
            if SheetKind::parse(&p.media).is_none() {
                return Err(bad(
                    actor,
                    "media",
                    "L7160, L7163 ou L7651",
                    "L7160, L7163 or L7651",
                ));
            }
        }
    }
    let region = site_region(conn, p.site, actor)?;
    actor.require_site(p.site, region)?;
    if let Some(bench) = p.bench {
        bench_at_site(conn, actor, bench, p.site)?;
    }
    let media = match p.kind {
        PrinterKind::Zpl => p.media.clone(),
        PrinterKind::Cups => SheetKind::parse(&p.media)
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
    };
    let row: PrinterRow = diesel::insert_into(printers::table)
        .values(NewPrinterRow {
            site_id: p.site.0,
            bench_id: p.bench.map(|b| b.0),
            name: p.name.trim().to_owned(),
            kind: p.kind.as_str().to_owned(),
            address: p.address.trim().to_owned(),
            dpi: p.dpi.map(|d| d as i32),
            media,
            active: true,
            created_at: now(),
        })
        .get_result(conn)?;
    printer_view(&row)
}

/// A printer the caller may use.
pub fn usable_printer(
    conn: &mut DbConnection,
    actor: &Actor,
    id: PrinterId,
) -> ApiResult<PrinterView> {
    staff(actor)?;
    let row: PrinterRow = printers::table
        .find(id.0)
        .filter(printers::active.eq(true))
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::PrinterNotFound))?;
    let region = site_region(conn, SiteId(row.site_id), actor)?;
    actor.require_site(SiteId(row.site_id), region)?;
    printer_view(&row)
}

/// What a printer is sent for a print request.
pub fn print_request(printer: &PrinterView, p: &PrintRequest) -> LabelRequest {
    let (format, sheet, media, dpi) = match printer.kind {
        PrinterKind::Zpl => (
            LabelFormat::Zpl,
            None,
            Some(printer.media.clone()),
            printer.dpi,
        ),
        PrinterKind::Cups => (
            LabelFormat::Pdf,
            SheetKind::parse(&printer.media),
            None,
            None,
        ),
    };
    LabelRequest {
        source: p.source.clone(),
        template: p.template.clone(),
        format,
        sheet,
        start_slot: p.start_slot,
        media,
        dpi,
        lang: p.lang,
        preview: false,
    }
}

// ---------------------------------------------------------------- templates

/// The built-in templates and the sites' own, in the caller's scope.
pub fn list_templates(
    conn: &mut DbConnection,
    actor: &Actor,
    site: Option<SiteId>,
) -> ApiResult<Vec<LabelTemplateView>> {
    staff(actor)?;
    let mut out: Vec<LabelTemplateView> = label::builtin_templates()
        .into_iter()
        .map(|t| LabelTemplateView {
            name: t.name.clone(),
            site: None,
            template: t,
        })
        .collect();
    let mut q = label_templates::table
        .inner_join(sites::table)
        .select((
            label_templates::site_id,
            label_templates::name,
            label_templates::definition,
        ))
        .order((label_templates::site_id, label_templates::name))
        .into_boxed();
    q = in_scope!(q, actor, label_templates::site_id);
    if let Some(s) = site {
        q = q.filter(label_templates::site_id.eq(s.0));
    }
    let rows: Vec<(i64, String, String)> = q.load(conn)?;
    for (site, name, definition) in rows {
        out.push(LabelTemplateView {
            name,
            site: Some(SiteId(site)),
            template: serde_json::from_str(&definition).map_err(ApiError::internal)?,
        });
    }
    Ok(out)
}

/// Adds a site's own template, refused when it would print unscannable labels.
pub fn create_template(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &NewLabelTemplate,
    settings: &LabelSettings,
) -> ApiResult<LabelTemplateView> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    let region = site_region(conn, req.site, actor)?;
    actor.require_site(req.site, region)?;
    let t = &req.template;
    let code = sample_code();
    // The URL of any code has the same length: one sample gives the QR version.
    let sample = code.qr_content(settings.public_host.as_deref());
    t.validate(&sample)
        .map_err(|e| label_error(&e, actor.lang))?;
    // It must also lay out on at least one roll or sheet label.
    let options = RenderOptions {
        host: settings.public_host.clone(),
        lang: actor.lang,
    };
    let mut first_error = None;
    let fits = label::ROLLS
        .iter()
        .map(|(_, s)| *s)
        .chain(SheetKind::ALL.iter().map(|k| k.sheet().label))
        .any(
            |size| match label::layout(t, size, &LabelData::blank(code), &options) {
                Ok(_) => true,
                Err(e) => {
                    first_error.get_or_insert(e);
                    false
                }
            },
        );
    if let (false, Some(e)) = (fits, first_error) {
        return Err(label_error(&e, actor.lang));
    }
    if label::builtin_templates().iter().any(|b| b.name == t.name) {
        return Err(actor
            .err(ErrorCode::Duplicate)
            .with_details(serde_json::json!({"template": t.name})));
    }
    let taken: Option<i64> = label_templates::table
        .filter(label_templates::site_id.eq(req.site.0))
        .filter(label_templates::name.eq(&t.name))
        .select(label_templates::id)
        .first(conn)
        .optional()?;
    if taken.is_some() {
        return Err(actor
            .err(ErrorCode::Duplicate)
            .with_details(serde_json::json!({"template": t.name})));
    }
    diesel::insert_into(label_templates::table)
        .values((
            label_templates::site_id.eq(req.site.0),
            label_templates::name.eq(&t.name),
            label_templates::definition.eq(serde_json::to_string(t).map_err(ApiError::internal)?),
            label_templates::created_by.eq(actor.user.0),
            label_templates::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(LabelTemplateView {
        name: t.name.clone(),
        site: Some(req.site),
        template: t.clone(),
    })
}
