//! The sale at the workshop counter and what follows it: solidarity prices, the legal
//! resale caps for devices from public bodies, invoices and credit notes, the legal
//! guarantee and after-sales. Their API bodies, and the rules the server enforces and
//! the pages explain.

use crate::domain::*;
use crate::ids::*;
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

macro_rules! api_type {
    ($($item:item)*) => {$(
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(ToSchema))]
        $item
    )*};
}

macro_rules! request_type {
    ($($item:item)*) => {$(
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[cfg_attr(feature = "openapi", derive(ToSchema))]
        $item
    )*};
}

/// The legal conformity guarantee of goods sold to a consumer, new or used (Code de
/// la consommation, art. L217-3 and L217-12): two years from the handover.
pub const GUARANTEE_MONTHS: u32 = 24;
/// A repair under the guarantee extends it by six months (art. L217-13).
pub const REPAIR_EXTENSION_MONTHS: u32 = 6;
/// For used goods, a defect is presumed to have existed at the handover when it
/// appears within twelve months (art. L217-7).
pub const USED_GOODS_PRESUMPTION_MONTHS: u32 = 12;

/// The last day of the guarantee of a device handed over on `day`.
pub fn guarantee_end(day: NaiveDate) -> NaiveDate {
    day.checked_add_months(Months::new(GUARANTEE_MONTHS))
        .unwrap_or(NaiveDate::MAX)
}

/// The guarantee's end after a repair under it: six months later than it was.
pub fn extended_by_repair(end: NaiveDate) -> NaiveDate {
    end.checked_add_months(Months::new(REPAIR_EXTENSION_MONTHS))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether the guarantee ending `end` still runs on `today`.
pub fn under_guarantee(end: NaiveDate, today: NaiveDate) -> bool {
    today <= end
}

/// The décret's category of a device, when it has one.
pub fn cap_category(category: Category) -> Option<CapCategory> {
    match category {
        Category::Laptop => Some(CapCategory::Laptop),
        Category::Desktop | Category::AllInOne => Some(CapCategory::DesktopSet),
        Category::Tablet => Some(CapCategory::Tablet),
        Category::Monitor => Some(CapCategory::Screen),
        Category::Printer => Some(CapCategory::Printer),
        Category::Phone => Some(CapCategory::Smartphone),
        _ => None,
    }
}

/// One line of a sale as the cap rule reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapLine {
    pub category: Category,
    pub public_body: bool,
    pub price_cents: i64,
}

/// A price above a legal cap: which, the cap, and the price it was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CapBreach {
    pub cap: CapCategory,
    pub max_cents: i64,
    pub price_cents: i64,
}

fn cap_of(caps: &[(CapCategory, i64)], c: CapCategory) -> Option<i64> {
    caps.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

/// Checks a sale's prices against the caps of the décret of 7 November 2022, for the
/// devices that came from a public body.
///
/// The décret caps a desktop *with its screen, keyboard and mouse*: a desktop tower
/// from a public body and the screens sold with it form one set, whose total is held
/// to the desktop cap (once per desktop in the sale); a screen sold on its own is held
/// to the screen cap. Every other device is held to its own category's cap.
pub fn check_caps(lines: &[CapLine], caps: &[(CapCategory, i64)]) -> Result<(), CapBreach> {
    let towers: Vec<&CapLine> = lines
        .iter()
        .filter(|l| l.category == Category::Desktop)
        .collect();
    let set_applies = towers.iter().any(|l| l.public_body);
    if set_applies && let Some(max) = cap_of(caps, CapCategory::DesktopSet) {
        let screens = lines.iter().filter(|l| l.category == Category::Monitor);
        let total: i64 = towers
            .iter()
            .map(|l| l.price_cents)
            .chain(screens.map(|l| l.price_cents))
            .sum();
        let max = max * towers.len() as i64;
        if total > max {
            return Err(CapBreach {
                cap: CapCategory::DesktopSet,
                max_cents: max,
                price_cents: total,
            });
        }
    }
    for l in lines.iter().filter(|l| l.public_body) {
        let in_set = set_applies && matches!(l.category, Category::Desktop | Category::Monitor);
        if in_set {
            continue;
        }
        if let Some(cap) = cap_category(l.category)
            && let Some(max) = cap_of(caps, cap)
            && l.price_cents > max
        {
            return Err(CapBreach {
                cap,
                max_cents: max,
                price_cents: l.price_cents,
            });
        }
    }
    Ok(())
}

/// Checks a price rule: what it asks for a device from a public body (its own price
/// for those, else its general price) must stay within the cap.
pub fn check_rule_cap(
    category: Category,
    price_cents: i64,
    public_body_price_cents: Option<i64>,
    caps: &[(CapCategory, i64)],
) -> Result<(), CapBreach> {
    let asked = public_body_price_cents.unwrap_or(price_cents);
    if let Some(cap) = cap_category(category)
        && let Some(max) = cap_of(caps, cap)
        && asked > max
    {
        return Err(CapBreach {
            cap,
            max_cents: max,
            price_cents: asked,
        });
    }
    Ok(())
}

/// The solidarity price of a device by its region's rules: the rule for its category
/// and grade, else the one for its category and every grade; a device from a public
/// body takes the rule's price for those when it has one.
pub fn price_for(
    rules: &[PriceRuleView],
    category: Category,
    grade: Option<Grade>,
    public_body: bool,
) -> Option<i64> {
    let exact = grade.and_then(|g| {
        rules
            .iter()
            .find(|r| r.category == category && r.grade == Some(g))
    });
    let rule = exact.or_else(|| {
        rules
            .iter()
            .find(|r| r.category == category && r.grade.is_none())
    })?;
    Some(if public_body {
        rule.public_body_price_cents.unwrap_or(rule.price_cents)
    } else {
        rule.price_cents
    })
}

/// At most this many payments in one sale.
pub const MAX_PAYMENTS: usize = 5;
/// At most this many devices in one sale.
pub const MAX_LINES: usize = 10;

/// Whether the payments add up to the total exactly.
pub fn payments_balance(total_cents: i64, payments: &[PaymentInput]) -> bool {
    payments
        .iter()
        .map(|p| i64::from(p.amount_cents))
        .sum::<i64>()
        == total_cents
}

/// The number printed on an invoice (`F2026-00042`) or a credit note (`AV2026-00003`):
/// one gapless series per selling organisation, year and kind.
pub fn document_number(kind: SaleKind, year: i32, seq: i64) -> String {
    let prefix = match kind {
        SaleKind::Invoice => "F",
        SaleKind::CreditNote => "AV",
    };
    format!("{prefix}{year}-{seq:05}")
}

/// Reads an amount in euros as people type it (`45`, `45,5`, `45,50 €`, `45.50`) into
/// cents; `None` for anything else (negative, more than two decimals, over 100 000 €).
pub fn parse_euros(input: &str) -> Option<u32> {
    let s: String = input
        .trim()
        .trim_end_matches('€')
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let s = s.replace(',', ".");
    let (units, decimals) = match s.split_once('.') {
        Some((u, d)) => (u, d),
        None => (s.as_str(), ""),
    };
    if units.is_empty()
        || units.len() > 6
        || !units.bytes().all(|b| b.is_ascii_digit())
        || decimals.len() > 2
        || !decimals.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: u32 = units.parse().ok()?;
    let cents: u32 = match decimals.len() {
        0 => 0,
        1 => decimals.parse::<u32>().ok()? * 10,
        _ => decimals.parse().ok()?,
    };
    let total = units.checked_mul(100)?.checked_add(cents)?;
    (total <= 10_000_000).then_some(total)
}

/// An amount for people: `45,50 €` in French, `€45.50` in English.
pub fn format_euros(cents: i64, lang: crate::Lang) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let (units, rest) = (c / 100, c % 100);
    match lang {
        crate::Lang::Fr => format!("{sign}{units},{rest:02} €"),
        crate::Lang::En => format!("{sign}€{units}.{rest:02}"),
    }
}

/// The legal mentions an invoice for a refurbished device sold to a consumer carries
/// (French law; the invoice is in French).
pub const LEGAL_GUARANTEE_FR: &str = "Garantie légale de conformité : le vendeur répond \
    des défauts de conformité existant lors de la délivrance du bien et qui apparaissent \
    dans un délai de deux ans à compter de celle-ci (articles L217-3 et suivants du Code \
    de la consommation). Pour un bien vendu d'occasion, les défauts qui apparaissent dans \
    les douze mois suivant la délivrance sont présumés exister au moment de celle-ci, sauf \
    preuve contraire (article L217-7). Le consommateur peut obtenir la réparation ou le \
    remplacement du bien, sans frais ; tout bien réparé dans le cadre de la garantie légale \
    bénéficie d'une extension de cette garantie de six mois (article L217-13). Garantie \
    contre les vices cachés : articles 1641 à 1649 du Code civil.";
pub const RECONDITIONED_FR: &str = "Produit reconditionné (article L122-21-1 du Code de la \
    consommation et décret n° 2022-190 du 17 février 2022) : bien ayant déjà été utilisé, \
    qui a subi des tests portant sur toutes ses fonctionnalités afin d'établir qu'il répond \
    aux obligations légales de sécurité et à l'usage auquel le consommateur peut \
    légitimement s'attendre, et dont toutes les données enregistrées en lien avec un \
    précédent propriétaire ou utilisateur ont été supprimées.";
pub const PUBLIC_BODY_FR: &str = "Bien issu d'un organisme public, cédé à une personne en \
    situation de précarité ou à une association qui l'accompagne, à un prix ne dépassant \
    pas le plafond fixé par le décret du 7 novembre 2022.";

// ---------------------------------------------------------------- prices

request_type! {
    /// A region's solidarity price for a category (and grade): set by its coordinator.
    /// A second rule for the same region, category and grade replaces the first.
    pub struct NewPriceRule {
        pub region: RegionId,
        pub category: Category,
        /// The cosmetic grade it applies to; every grade when absent.
        #[serde(default)]
        pub grade: Option<Grade>,
        #[cfg_attr(feature = "openapi", schema(maximum = 10000000))]
        pub price_cents: u32,
        /// The price of the devices that came from a public body, when it differs; it
        /// (else the general price) must stay within the legal cap.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(maximum = 10000000))]
        pub public_body_price_cents: Option<u32>,
    }

    /// A legal cap, as an admin sets it when the law changes.
    pub struct UpdatePriceCap {
        #[cfg_attr(feature = "openapi", schema(maximum = 10000000))]
        pub max_cents: u32,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 300, pattern = "$required-text"))]
        pub legal_reference: String,
    }
}

api_type! {
    pub struct PriceRuleView {
        pub id: PriceRuleId,
        pub region: RegionId,
        pub category: Category,
        pub grade: Option<Grade>,
        pub price_cents: i64,
        pub public_body_price_cents: Option<i64>,
        pub updated_at: DateTime<Utc>,
    }

    pub struct PriceCapView {
        pub category: CapCategory,
        pub max_cents: i64,
        /// The text that sets it.
        pub legal_reference: String,
    }

    pub struct PriceList {
        pub rules: Vec<PriceRuleView>,
        pub caps: Vec<PriceCapView>,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PriceQuery {
    /// Admins: the region to read (coordinators read their own).
    pub region: Option<RegionId>,
}

// ---------------------------------------------------------------- sales

request_type! {
    pub struct SaleLineInput {
        pub item: ItemId,
        /// The price; the region's solidarity price when absent.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(maximum = 10000000))]
        pub price_cents: Option<u32>,
    }

    pub struct PaymentInput {
        pub method: PaymentMethod,
        #[cfg_attr(feature = "openapi", schema(maximum = 10000000))]
        pub amount_cents: u32,
        /// A voucher's number, a cheque's…
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        pub reference: Option<String>,
    }

    /// A sale at a site's counter: to the beneficiary of a reservation (the reserved
    /// device, with what goes with it), or by a coordinator to a partner organisation,
    /// saying why.
    pub struct NewSale {
        #[serde(default)]
        pub reservation: Option<ReservationId>,
        #[serde(default)]
        pub partner: Option<OrgId>,
        /// Why a partner sale (required for one).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 500, pattern = "$text"))]
        pub reason: Option<String>,
        /// A partner sale's counter (a reservation's is its site).
        #[serde(default)]
        pub site: Option<SiteId>,
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 10))]
        pub items: Vec<SaleLineInput>,
        #[cfg_attr(feature = "openapi", schema(max_items = 5))]
        pub payments: Vec<PaymentInput>,
    }

    /// A device brought back under the guarantee.
    pub struct NewReturn {
        pub item: ItemId,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500, pattern = "$required-text"))]
        pub reason: String,
    }

    /// After-sales' decision on a returned device.
    pub struct SettleAfterSales {
        pub outcome: AfterSalesOutcome,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500, pattern = "$required-text"))]
        pub reason: String,
        /// An exchange: the device given instead (ready, at the same site).
        #[serde(default)]
        pub replacement: Option<ItemId>,
        /// A refund: how the money is given back.
        #[serde(default)]
        pub refund_method: Option<PaymentMethod>,
    }
}

api_type! {
    pub struct SaleLineView {
        pub item: ItemId,
        pub code: String,
        pub category: Category,
        pub brand: Option<String>,
        pub model: Option<String>,
        pub price_cents: i64,
        /// The device came from a public body: the legal cap applied.
        pub public_body: bool,
        /// The last day of its legal guarantee (for an invoice).
        pub guarantee_until: Option<NaiveDate>,
        pub status: SaleLineStatus,
    }

    pub struct PaymentView {
        pub method: PaymentMethod,
        pub amount_cents: i64,
        pub reference: Option<String>,
    }

    pub struct AfterSalesView {
        pub id: AfterSalesId,
        pub sale: SaleId,
        pub item: ItemId,
        pub code: String,
        pub reason: String,
        pub opened_at: DateTime<Utc>,
        /// Still to decide, or being repaired.
        pub open: bool,
        pub outcome: Option<AfterSalesOutcome>,
        pub outcome_reason: Option<String>,
        pub settled_at: Option<DateTime<Utc>>,
        /// Repaired and handed back.
        pub closed_at: Option<DateTime<Utc>>,
        pub credit_note: Option<SaleId>,
        /// An exchange's new invoice.
        pub replacement_sale: Option<SaleId>,
    }

    /// An invoice or a credit note.
    pub struct SaleView {
        pub id: SaleId,
        pub kind: SaleKind,
        /// `F2026-00042`, `AV2026-00003`: gapless per seller, year and kind.
        pub number: String,
        pub seller: OrgId,
        pub seller_name: String,
        pub site: SiteId,
        pub site_name: String,
        pub region: RegionId,
        pub reservation: Option<ReservationId>,
        pub beneficiary: Option<BeneficiaryId>,
        /// The beneficiary's pseudonymous reference, or the partner's name.
        pub buyer: String,
        pub partner: Option<OrgId>,
        pub reason: Option<String>,
        /// The credit note's invoice.
        pub credits: Option<SaleId>,
        pub lines: Vec<SaleLineView>,
        pub payments: Vec<PaymentView>,
        pub total_cents: i64,
        pub vat_scheme: VatScheme,
        pub sold_at: DateTime<Utc>,
        pub sold_by: UserId,
        pub after_sales: Vec<AfterSalesView>,
    }
}

api_type! {
    /// A site's counter: who sells there, and the pickups of today and of the next
    /// seven days.
    pub struct CounterView {
        pub site: SiteId,
        pub site_name: String,
        /// The selling organisation (none: the counter cannot sell until an admin
        /// sets it).
        pub seller: Option<String>,
        pub today: Vec<crate::social::ReservationView>,
        pub week: Vec<crate::social::ReservationView>,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SaleQuery {
    pub site: Option<SiteId>,
    pub beneficiary: Option<BeneficiaryId>,
    pub kind: Option<SaleKind>,
    /// Sold in this year.
    #[cfg_attr(feature = "openapi", param(minimum = 2000, maximum = 2100))]
    pub year: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Vec<(CapCategory, i64)> {
        vec![
            (CapCategory::Laptop, 18_000),
            (CapCategory::DesktopSet, 15_000),
            (CapCategory::Screen, 3_000),
        ]
    }

    fn line(category: Category, public_body: bool, price: i64) -> CapLine {
        CapLine {
            category,
            public_body,
            price_cents: price,
        }
    }

    #[test]
    fn a_public_bodys_laptop_is_capped_at_its_category() {
        assert!(check_caps(&[line(Category::Laptop, true, 18_000)], &caps()).is_ok());
        let e = check_caps(&[line(Category::Laptop, true, 18_001)], &caps()).unwrap_err();
        assert_eq!(e.cap, CapCategory::Laptop);
        assert_eq!(e.max_cents, 18_000);
        // Not from a public body: no cap.
        assert!(check_caps(&[line(Category::Laptop, false, 30_000)], &caps()).is_ok());
    }

    #[test]
    fn a_desktop_and_its_screen_are_one_set() {
        // 120 € + 30 € = the set's 150 €: within, though alone a screen caps at 30 €.
        let set = [
            line(Category::Desktop, true, 12_000),
            line(Category::Monitor, false, 3_000),
        ];
        assert!(check_caps(&set, &caps()).is_ok());
        let over = [
            line(Category::Desktop, true, 12_000),
            line(Category::Monitor, true, 4_000),
        ];
        let e = check_caps(&over, &caps()).unwrap_err();
        assert_eq!(e.cap, CapCategory::DesktopSet);
        assert_eq!(e.price_cents, 16_000);
        // A screen on its own from a public body: 30 €.
        let alone = [line(Category::Monitor, true, 4_000)];
        assert_eq!(
            check_caps(&alone, &caps()).unwrap_err().cap,
            CapCategory::Screen
        );
        // Two desktops: two sets' worth.
        let two = [
            line(Category::Desktop, true, 14_000),
            line(Category::Desktop, false, 14_000),
            line(Category::Monitor, true, 2_000),
        ];
        assert!(check_caps(&two, &caps()).is_ok());
    }

    #[test]
    fn a_rule_above_the_cap_is_refused_unless_it_prices_public_bodies_devices_apart() {
        assert!(check_rule_cap(Category::Laptop, 20_000, None, &caps()).is_err());
        assert!(check_rule_cap(Category::Laptop, 20_000, Some(18_000), &caps()).is_ok());
        assert!(check_rule_cap(Category::Laptop, 9_000, Some(18_500), &caps()).is_err());
        assert!(check_rule_cap(Category::Server, 90_000, None, &caps()).is_ok());
    }

    #[test]
    fn the_guarantee_runs_two_years_and_a_repair_adds_six_months() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let end = guarantee_end(d);
        assert_eq!(end, NaiveDate::from_ymd_opt(2028, 11, 26).unwrap());
        assert_eq!(
            extended_by_repair(end),
            NaiveDate::from_ymd_opt(2029, 5, 26).unwrap()
        );
        // A sale on 31 August: the end falls on the last day of the month.
        let d = NaiveDate::from_ymd_opt(2027, 8, 31).unwrap();
        assert_eq!(
            extended_by_repair(guarantee_end(d)),
            NaiveDate::from_ymd_opt(2030, 2, 28).unwrap()
        );
        assert!(under_guarantee(end, end));
        assert!(!under_guarantee(end, end.succ_opt().unwrap()));
    }

    #[test]
    fn prices_come_from_the_grades_rule_then_the_categorys() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let rule = |id, grade, price, pb| PriceRuleView {
            id: PriceRuleId(id),
            region: RegionId(1),
            category: Category::Laptop,
            grade,
            price_cents: price,
            public_body_price_cents: pb,
            updated_at: at,
        };
        let rules = [
            rule(1, None, 9_000, None),
            rule(2, Some(Grade::A), 12_000, Some(11_000)),
        ];
        assert_eq!(
            price_for(&rules, Category::Laptop, Some(Grade::A), false),
            Some(12_000)
        );
        assert_eq!(
            price_for(&rules, Category::Laptop, Some(Grade::A), true),
            Some(11_000)
        );
        assert_eq!(
            price_for(&rules, Category::Laptop, Some(Grade::C), true),
            Some(9_000)
        );
        assert_eq!(price_for(&rules, Category::Tablet, None, false), None);
    }

    #[test]
    fn amounts_read_as_people_type_them() {
        assert_eq!(parse_euros("45"), Some(4_500));
        assert_eq!(parse_euros("45,5"), Some(4_550));
        assert_eq!(parse_euros(" 45,50 € "), Some(4_550));
        assert_eq!(parse_euros("1 045.05"), Some(104_505));
        assert_eq!(parse_euros("0"), Some(0));
        for bad in ["", "-5", "4,555", "abc", "1e3", "€", "100001"] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
        assert_eq!(format_euros(4_550, crate::Lang::Fr), "45,50 €");
        assert_eq!(format_euros(-4_550, crate::Lang::En), "-€45.50");
        assert_eq!(document_number(SaleKind::Invoice, 2026, 42), "F2026-00042");
        assert_eq!(
            document_number(SaleKind::CreditNote, 2026, 3),
            "AV2026-00003"
        );
    }
}
