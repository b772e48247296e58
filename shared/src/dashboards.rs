//! The dashboards' vocabulary: what the stock is grouped by, the answers of the
//! dashboard routes, how a percentile is read off a histogram, and how the open
//! data keeps a household from being singled out (cell suppression).

use crate::domain::*;
use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
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

/// The key spec a part in stock is counted by: memory by type and size ("DDR4/8"),
/// a drive by size in GB ("512"); empty for the rest.
pub fn spec_key(
    category: Category,
    part_spec: Option<&str>,
    ram_gb: Option<u32>,
    storage_gb: Option<u32>,
) -> String {
    match category {
        Category::Ram => {
            let kind = part_spec.and_then(memory_type).unwrap_or("?");
            let size = ram_gb.or_else(|| part_spec.and_then(leading_gb));
            match size {
                Some(gb) => format!("{kind}/{gb}"),
                None => format!("{kind}/?"),
            }
        }
        c if c.is_drive() => storage_gb
            .or_else(|| part_spec.and_then(leading_gb))
            .map(|gb| gb.to_string())
            .unwrap_or_else(|| "?".to_owned()),
        _ => String::new(),
    }
}

/// "DDR4" out of "8 GB DDR4-2666".
fn memory_type(s: &str) -> Option<&'static str> {
    let up = s.to_ascii_uppercase();
    ["DDR5", "DDR4", "DDR3", "DDR2"]
        .into_iter()
        .find(|t| up.contains(t))
}

/// 8 out of "8 GB DDR4" or "8Go".
fn leading_gb(s: &str) -> Option<u32> {
    let digits: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// A spec key as people read it: "DDR4 8 Go", "512 Go".
pub fn spec_label(category: Category, key: &str, lang: crate::Lang) -> String {
    let unit = match lang {
        crate::Lang::Fr => "Go",
        crate::Lang::En => "GB",
    };
    let unknown = match lang {
        crate::Lang::Fr => "taille inconnue",
        crate::Lang::En => "unknown size",
    };
    let size = |s: &str| {
        if s == "?" || s.is_empty() {
            unknown.to_owned()
        } else {
            format!("{s} {unit}")
        }
    };
    match category {
        Category::Ram => match key.split_once('/') {
            Some((kind, gb)) => {
                let kind = if kind == "?" { "DDR ?" } else { kind };
                format!("{kind} {}", size(gb))
            }
            None => key.to_owned(),
        },
        c if c.is_drive() => size(key),
        _ => key.to_owned(),
    }
}

/// The value at `q` (0–1) of a histogram of whole numbers (value, count), sorted or
/// not: the smallest value such that at least `q` of the counted items are at or
/// below it (the nearest-rank method). `None` when nothing is counted.
pub fn percentile(histogram: &[(i64, i64)], q: f64) -> Option<i64> {
    let mut h: Vec<(i64, i64)> = histogram.iter().copied().filter(|(_, n)| *n > 0).collect();
    h.sort();
    let total: i64 = h.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for (v, n) in h {
        seen += n;
        if seen >= rank {
            return Some(v);
        }
    }
    None
}

// ---------------------------------------------------------------- cell suppression

/// Counts of people below this are never published.
pub const DISCLOSURE_THRESHOLD: i64 = 5;

/// A table of counts of people (rows × columns), published with its row totals, its
/// column totals and its grand total, as the table with the totals around it: row
/// `r`'s total is `[r][cols]`, column `c`'s is `[rows][c]`, the grand total
/// `[rows][cols]`.
pub fn with_totals(table: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let cols = table.first().map_or(0, Vec::len);
    let mut out: Vec<Vec<i64>> = table
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.push(r.iter().sum());
            r
        })
        .collect();
    let totals: Vec<i64> = (0..=cols).map(|c| out.iter().map(|r| r[c]).sum()).collect();
    out.push(totals);
    out
}

/// Which figures of a table with its totals ([`with_totals`]) must not be shown.
///
/// A count from 1 to 4, a total as much as a cell, is suppressed (primary
/// suppression); then more figures are suppressed until no suppressed count can be
/// worked out from the published ones: every row and column (with its total) that
/// has a suppressed figure has at least two, and none is pinned to one value by the
/// bounds the published figures give ([`pinned`]). Zeros are shown: a zero singles
/// out nobody.
pub fn suppress(full: &[Vec<i64>]) -> Vec<Vec<bool>> {
    let mut hidden: Vec<Vec<bool>> = full
        .iter()
        .map(|r| {
            r.iter()
                .map(|&v| v > 0 && v < DISCLOSURE_THRESHOLD)
                .collect()
        })
        .collect();
    let lines = lines_of(full);
    loop {
        // A line with exactly one suppressed figure gives it away: hide one more.
        let mut changed = false;
        for line in &lines {
            changed |= second_in_line(full, &mut hidden, line);
        }
        if changed {
            continue;
        }
        // Then the attack itself: a suppressed count pinned by the published figures.
        let small = |&(r, c): &(usize, usize)| full[r][c] > 0 && full[r][c] < DISCLOSURE_THRESHOLD;
        let Some(cell) = pinned(full, &hidden).into_iter().find(small) else {
            break;
        };
        // Hide the smallest shown figure of a line through it, else anywhere.
        let shown = |cells: &mut dyn Iterator<Item = (usize, usize)>| {
            cells
                .filter(|&(r, c)| !hidden[r][c])
                .min_by_key(|&(r, c)| rank(full[r][c]))
        };
        let through: Vec<(usize, usize)> = lines
            .iter()
            .filter(|l| l.contains(&cell))
            .flatten()
            .copied()
            .collect();
        let everywhere: Vec<(usize, usize)> = lines.iter().flatten().copied().collect();
        match shown(&mut through.into_iter()).or_else(|| shown(&mut everywhere.into_iter())) {
            Some((r, c)) => hidden[r][c] = true,
            // Everything is hidden already.
            None => break,
        }
    }
    hidden
}

/// The lines of a table with its totals: each row with its total, each column with
/// its total (the totals' row and column included); each line's last figure is the
/// sum of the others.
fn lines_of(full: &[Vec<i64>]) -> Vec<Vec<(usize, usize)>> {
    let rows = full.len();
    let cols = full.first().map_or(0, Vec::len);
    let mut lines = Vec::new();
    for r in 0..rows {
        lines.push((0..cols).map(|c| (r, c)).collect());
    }
    for c in 0..cols {
        lines.push((0..rows).map(|r| (r, c)).collect());
    }
    lines
}

/// Non-zero figures first (a zero hidden beside a count protects it less), smallest
/// first.
fn rank(v: i64) -> (bool, i64) {
    (v == 0, v)
}

fn second_in_line(full: &[Vec<i64>], hidden: &mut [Vec<bool>], line: &[(usize, usize)]) -> bool {
    let count = line.iter().filter(|(r, c)| hidden[*r][*c]).count();
    if count != 1 {
        return false;
    }
    let pick = line
        .iter()
        .filter(|(r, c)| !hidden[*r][*c])
        .min_by_key(|(r, c)| rank(full[*r][*c]));
    match pick {
        Some((r, c)) => {
            hidden[*r][*c] = true;
            true
        }
        None => false,
    }
}

/// The suppressed figures of a table with its totals whose value the published ones
/// give away. This is the attack the suppression is checked against: the lines'
/// equations (along each line the last figure is the sum of the others) over the
/// suppressed figures, brought to reduced row echelon form, tell the ones that a
/// combination of equations fixes; then every figure is at least 0, and bounds
/// tightened equation by equation (the lines' and their combinations') until nothing
/// moves tell the ones that nonnegativity pins to one value.
pub fn pinned(full: &[Vec<i64>], hidden: &[Vec<bool>]) -> Vec<(usize, usize)> {
    const EPS: f64 = 1e-9;
    let vars: Vec<(usize, usize)> = hidden
        .iter()
        .enumerate()
        .flat_map(|(r, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, h)| **h)
                .map(move |(c, _)| (r, c))
        })
        .collect();
    let n = vars.len();
    if n == 0 {
        return Vec::new();
    }
    let index = |cell: (usize, usize)| vars.iter().position(|&v| v == cell);
    // Σ coefficients × suppressed figures = the published figures' balance.
    let mut equations: Vec<(Vec<f64>, f64)> = Vec::new();
    for line in lines_of(full) {
        let last = line.len() - 1;
        let mut coef = vec![0.0; n];
        let mut rhs = 0.0;
        let mut any = false;
        for (k, &(r, c)) in line.iter().enumerate() {
            let sign = if k == last { -1.0 } else { 1.0 };
            match index((r, c)) {
                Some(i) => {
                    coef[i] += sign;
                    any = true;
                }
                None => rhs -= sign * full[r][c] as f64,
            }
        }
        if any {
            equations.push((coef, rhs));
        }
    }
    // Reduced row echelon form.
    let mut m = equations.clone();
    let mut row = 0;
    for col in 0..n {
        let Some(p) =
            (row..m.len()).max_by(|&a, &b| m[a].0[col].abs().total_cmp(&m[b].0[col].abs()))
        else {
            break;
        };
        if m[p].0[col].abs() < EPS {
            continue;
        }
        m.swap(row, p);
        let pivot = m[row].0[col];
        for x in m[row].0.iter_mut() {
            *x /= pivot;
        }
        m[row].1 /= pivot;
        for other in 0..m.len() {
            if other != row && m[other].0[col].abs() > EPS {
                let f = m[other].0[col];
                let (src, rhs) = (m[row].0.clone(), m[row].1);
                for (x, y) in m[other].0.iter_mut().zip(&src) {
                    *x -= f * y;
                }
                m[other].1 -= f * rhs;
            }
        }
        row += 1;
        if row == m.len() {
            break;
        }
    }
    let mut fixed = vec![false; n];
    for (coef, _) in &m {
        let nonzero: Vec<usize> = (0..n).filter(|&i| coef[i].abs() > EPS).collect();
        if nonzero.len() == 1 {
            fixed[nonzero[0]] = true;
        }
    }
    // Bounds: every figure is a count (at least 0, no upper bound known).
    let mut lo = vec![0.0f64; n];
    let mut hi = vec![f64::INFINITY; n];
    let all: Vec<(Vec<f64>, f64)> = equations.into_iter().chain(m).collect();
    let mut moved = true;
    let mut rounds = 0;
    while moved && rounds < 1000 {
        moved = false;
        rounds += 1;
        for (coef, rhs) in &all {
            for j in 0..n {
                let a = coef[j];
                if a.abs() < EPS {
                    continue;
                }
                // a·x_j = rhs − Σ others: the others' range gives x_j's.
                let (mut omin, mut omax) = (0.0f64, 0.0f64);
                for k in (0..n).filter(|&k| k != j && coef[k].abs() > EPS) {
                    let (p, q) = (coef[k] * lo[k], coef[k] * hi[k]);
                    let (p, q) = if p <= q { (p, q) } else { (q, p) };
                    omin += if p.is_nan() { f64::NEG_INFINITY } else { p };
                    omax += if q.is_nan() { f64::INFINITY } else { q };
                }
                let (mut new_lo, mut new_hi) = ((rhs - omax) / a, (rhs - omin) / a);
                if a < 0.0 {
                    std::mem::swap(&mut new_lo, &mut new_hi);
                }
                if new_lo.is_finite() && new_lo > lo[j] + EPS {
                    lo[j] = new_lo;
                    moved = true;
                }
                if new_hi.is_finite() && new_hi < hi[j] - EPS {
                    hi[j] = new_hi;
                    moved = true;
                }
            }
        }
    }
    (0..n)
        .filter(|&i| fixed[i] || hi[i] - lo[i] < 1.0 - EPS)
        .map(|i| vars[i])
        .collect()
}

// ---------------------------------------------------------------- routes' answers

/// Query of the dashboard routes: whose figures. A technician always sees their own
/// site; a coordinator their region, or one of its sites; an admin every region, or
/// one region or site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DashboardQuery {
    pub region: Option<RegionId>,
    pub site: Option<SiteId>,
}

/// Query of the aging dashboard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AgingQuery {
    pub region: Option<RegionId>,
    pub site: Option<SiteId>,
    pub state: Option<ItemState>,
    pub waiting_for: Option<WaitingFor>,
    /// Waiting at least this many days, instead of the state's threshold.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 3650))]
    pub min_days: Option<u32>,
    /// Items listed, oldest first: 1 to 1000, 100 by default.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub limit: Option<i64>,
}

/// Query of the impact figures and the funder's report: a period of whole months.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ImpactQuery {
    pub region: Option<RegionId>,
    pub site: Option<SiteId>,
    /// First month, as "2026-01" (twelve months before `to` by default).
    #[cfg_attr(
        feature = "openapi",
        param(pattern = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$")
    )]
    pub from: Option<String>,
    /// Last month, as "2026-12" (the current month by default). From the first month
    /// to the last: at most ten years.
    #[cfg_attr(
        feature = "openapi",
        param(pattern = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$")
    )]
    pub to: Option<String>,
}

api_type! {
    /// A site the figures cover.
    pub struct SiteRef {
        pub id: SiteId,
        pub name: String,
        pub region: RegionId,
    }

    /// Devices of one site in one state, category and grade.
    pub struct StockCell {
        pub site: SiteId,
        pub category: Category,
        pub state: ItemState,
        pub grade: Option<Grade>,
        pub count: i64,
    }

    /// Parts of one site, category and key spec in stock.
    pub struct PartStock {
        pub site: SiteId,
        pub category: Category,
        /// "DDR4/8" for memory, "512" (GB) for a drive, empty otherwise.
        pub spec: String,
        /// Waiting for a test.
        pub untested: i64,
        pub tested_good: i64,
        pub faulty: i64,
    }

    pub struct StockDashboard {
        pub sites: Vec<SiteRef>,
        /// Devices not sold, recycled or torn down, by site, category, state and grade.
        pub devices: Vec<StockCell>,
        pub parts: Vec<PartStock>,
    }

    /// One week's flows, in the order of [`FlowDashboard::flows`].
    pub struct FlowWeek {
        /// The Monday (in Paris).
        pub week: NaiveDate,
        pub counts: Vec<i64>,
    }

    /// Days from reception to ready over the last twelve months, at one site.
    pub struct ReadyTime {
        pub site: SiteId,
        pub devices: i64,
        pub median_days: Option<i64>,
        pub p90_days: Option<i64>,
    }

    pub struct FlowDashboard {
        pub sites: Vec<SiteRef>,
        pub flows: Vec<Flow>,
        /// The last 53 weeks, oldest first.
        pub weeks: Vec<FlowWeek>,
        pub ready_times: Vec<ReadyTime>,
    }

    pub struct AgingThreshold {
        pub state: ItemState,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3650))]
        pub days: i32,
    }

    /// What the dashboards count by: the extra years of use a reused device is
    /// assumed to get (CO2e avoided), and how long an item may wait in each state
    /// before the aging dashboard lists it.
    pub struct DashboardSettings {
        pub extra_years: i64,
        pub thresholds: Vec<AgingThreshold>,
    }

    /// Items of one site waiting past their threshold in one state, for one reason.
    pub struct AgingCount {
        pub site: SiteId,
        pub state: ItemState,
        pub waiting_for: WaitingFor,
        pub count: i64,
    }

    pub struct AgingItem {
        pub id: ItemId,
        pub code: String,
        pub category: Category,
        pub site: SiteId,
        pub state: ItemState,
        pub waiting_for: WaitingFor,
        pub since: DateTime<Utc>,
        pub days: i64,
    }

    pub struct AgingDashboard {
        pub sites: Vec<SiteRef>,
        pub thresholds: Vec<AgingThreshold>,
        pub counts: Vec<AgingCount>,
        /// Oldest first.
        pub items: Vec<AgingItem>,
    }

    /// A category's reuse over the period, with the factors used.
    pub struct ImpactLine {
        pub category: Category,
        /// Devices sold, less those taken back for good.
        pub reused: i64,
        /// Weight of the weighed ones.
        pub weighed_g: i64,
        /// Weight the technician estimated.
        pub estimated_g: i64,
        /// Not weighed: counted at the category's estimated weight.
        pub unweighed: i64,
        pub estimated_weight_g: i64,
        /// Grams of CO2e avoided per year of extra use; `None`: no published figure.
        pub avoided_g_per_year: Option<i64>,
        pub avoided_source: Option<String>,
        /// reused × avoided per year × extra years.
        pub co2e_avoided_g: i64,
        /// Making a new one, for context only.
        pub manufacturing_g: Option<i64>,
        pub manufacturing_source: Option<String>,
        pub weight_source: String,
        pub source_date: NaiveDate,
    }

    pub struct ImpactView {
        pub sites: Vec<SiteRef>,
        /// First day of the first month.
        pub from: NaiveDate,
        /// First day of the last month.
        pub to: NaiveDate,
        pub extra_years: i64,
        pub reused: i64,
        /// Kilograms kept out of waste (the reused devices' weight), in grams.
        pub kept_g: i64,
        /// The part of `kept_g` that was estimated (by a technician or by category).
        pub kept_estimated_g: i64,
        pub co2e_avoided_g: i64,
        /// Households that bought their first device in the period.
        pub households: i64,
        /// Hours of training sessions held (with at least one person present), in
        /// minutes.
        pub training_minutes: i64,
        pub lines: Vec<ImpactLine>,
    }
}

/// Where a collection's devices are now, for its weight balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum BalanceLine {
    /// Sold to a household or a partner.
    Reused,
    /// Ready or reserved at a shop.
    ForReuse,
    /// Received, being refurbished, or back under guarantee.
    AtTheWorkshop,
    /// Torn down: its mass is now parts and a carcass.
    Harvested,
    /// Waiting for recycling, or handed to the recycler.
    Recycled,
    /// Registered at the donor's and not yet received.
    NotYetReceived,
}

impl BalanceLine {
    pub const ALL: &'static [BalanceLine] = &[
        BalanceLine::Reused,
        BalanceLine::ForReuse,
        BalanceLine::AtTheWorkshop,
        BalanceLine::Harvested,
        BalanceLine::Recycled,
        BalanceLine::NotYetReceived,
    ];

    /// The line a device in `state` counts in.
    pub fn of(state: ItemState) -> Option<BalanceLine> {
        use ItemState::*;
        Some(match state {
            Sold => BalanceLine::Reused,
            Ready | Reserved => BalanceLine::ForReuse,
            Received | Refurbishing | Returned => BalanceLine::AtTheWorkshop,
            Harvesting | Harvested => BalanceLine::Harvested,
            ToRecycle | Recycled => BalanceLine::Recycled,
            Collected => BalanceLine::NotYetReceived,
            InStock | TestedGood | Faulty | Fitted | Destroyed => return None,
        })
    }

    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            BalanceLine::Reused => ("Réemployés (vendus)", "Reused (sold)"),
            BalanceLine::ForReuse => ("Prêts ou réservés", "Ready or reserved"),
            BalanceLine::AtTheWorkshop => ("À l'atelier", "At the workshop"),
            BalanceLine::Harvested => ("Démontés pour pièces", "Harvested for parts"),
            BalanceLine::Recycled => ("Recyclés ou à recycler", "Recycled or to recycle"),
            BalanceLine::NotYetReceived => ("Pas encore reçus", "Not yet received"),
        }
    }
}

api_type! {
    pub struct BalanceRow {
        pub line: BalanceLine,
        pub mass: Mass,
    }

    /// A collection's weight balance: declared = the lines + missing, to the gram.
    pub struct CollectionBalance {
        pub id: CollectionId,
        pub reference: Option<String>,
        pub donor: String,
        pub site: SiteId,
        pub pickup_date: NaiveDate,
        pub status: CollectionStatus,
        pub declared_count: i32,
        pub declared_weight_g: Option<i64>,
        pub lines: Vec<BalanceRow>,
        /// Every device registered on it.
        pub registered: Mass,
        /// Recorded at closing.
        pub missing_count: Option<i32>,
        pub missing_weight_g: Option<i64>,
    }

    pub struct CollectionsDashboard {
        pub sites: Vec<SiteRef>,
        /// Newest pickup first.
        pub collections: Vec<CollectionBalance>,
    }

    /// Needs and reservations of one category against the ready stock.
    pub struct DemandLine {
        pub category: Category,
        /// Needs recorded by social workers and not yet met.
        pub open_needs: i64,
        pub active_reservations: i64,
        pub ready: i64,
    }

    pub struct SessionLoad {
        pub id: TrainingSessionId,
        pub starts_at: DateTime<Utc>,
        pub capacity: i32,
        pub booked: i64,
        pub waiting: i64,
        pub attended: i64,
        pub free: i64,
    }

    pub struct DemandDashboard {
        pub sites: Vec<SiteRef>,
        pub lines: Vec<DemandLine>,
        /// The region's sessions from thirty days ago on.
        pub sessions: Vec<SessionLoad>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_keys_group_memory_by_type_and_size_and_drives_by_size() {
        assert_eq!(
            spec_key(Category::Ram, Some("8 GB DDR4-2666"), None, None),
            "DDR4/8"
        );
        assert_eq!(
            spec_key(Category::Ram, Some("ddr3"), Some(4), None),
            "DDR3/4"
        );
        assert_eq!(spec_key(Category::Ram, None, None, None), "?/?");
        assert_eq!(spec_key(Category::Ssd, None, None, Some(256)), "256");
        assert_eq!(spec_key(Category::Hdd, Some("500 Go"), None, None), "500");
        assert_eq!(spec_key(Category::Battery, Some("65 Wh"), None, None), "");
        assert_eq!(
            spec_label(Category::Ram, "DDR4/8", crate::Lang::Fr),
            "DDR4 8 Go"
        );
        assert_eq!(spec_label(Category::Nvme, "512", crate::Lang::En), "512 GB");
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let h = [(3, 1), (1, 2), (10, 1)];
        assert_eq!(percentile(&h, 0.5), Some(1));
        assert_eq!(percentile(&h, 0.75), Some(3));
        assert_eq!(percentile(&h, 0.9), Some(10));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[(4, 0)], 0.5), None);
    }

    /// The exhaustive attack on a table with its totals: every value of the
    /// suppressed cells from 0 to `cap` whose rows, columns and totals agree with the
    /// published figures; the values each suppressed figure can then take (a search
    /// stops once every one of them has two).
    fn possible_values(
        full: &[Vec<i64>],
        hidden: &[Vec<bool>],
        cap: i64,
    ) -> Vec<((usize, usize), usize)> {
        let rows = full.len() - 1;
        let cols = full[0].len() - 1;
        let unknown: Vec<(usize, usize)> = (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .filter(|&(r, c)| hidden[r][c])
            .collect();
        let watched: Vec<(usize, usize)> = (0..=rows)
            .flat_map(|r| (0..=cols).map(move |c| (r, c)))
            .filter(|&(r, c)| hidden[r][c])
            .collect();
        let mut seen: Vec<std::collections::BTreeSet<i64>> =
            vec![Default::default(); watched.len()];
        let mut cells: Vec<Vec<i64>> = (0..rows).map(|r| full[r][..cols].to_vec()).collect();
        struct S<'a> {
            full: &'a [Vec<i64>],
            hidden: &'a [Vec<bool>],
            unknown: &'a [(usize, usize)],
            watched: &'a [(usize, usize)],
            cap: i64,
        }
        #[allow(clippy::needless_range_loop)]
        fn consistent(s: &S, cells: &[Vec<i64>], done: usize) -> bool {
            let rows = cells.len();
            let cols = cells[0].len();
            let set = |r: usize, c: usize| !s.hidden[r][c] || s.unknown[..done].contains(&(r, c));
            for r in 0..rows {
                let sum: i64 = cells[r].iter().sum();
                let complete = (0..cols).all(|c| set(r, c));
                if !s.hidden[r][cols]
                    && (complete && sum != s.full[r][cols] || sum > s.full[r][cols])
                {
                    return false;
                }
            }
            for c in 0..cols {
                let sum: i64 = cells.iter().map(|row| row[c]).sum();
                let complete = (0..rows).all(|r| set(r, c));
                if !s.hidden[rows][c]
                    && (complete && sum != s.full[rows][c] || sum > s.full[rows][c])
                {
                    return false;
                }
            }
            let all: i64 = cells.iter().flatten().sum();
            let complete = done == s.unknown.len();
            !(!s.hidden[rows][cols]
                && (complete && all != s.full[rows][cols] || all > s.full[rows][cols]))
        }
        fn search(
            s: &S,
            cells: &mut Vec<Vec<i64>>,
            i: usize,
            seen: &mut [std::collections::BTreeSet<i64>],
        ) {
            if seen.iter().all(|v| v.len() >= 2) || !consistent(s, cells, i) {
                return;
            }
            if i == s.unknown.len() {
                let rows = cells.len();
                let cols = cells[0].len();
                for (k, &(r, c)) in s.watched.iter().enumerate() {
                    let v = if r < rows && c < cols {
                        cells[r][c]
                    } else if c == cols && r < rows {
                        cells[r].iter().sum()
                    } else if r == rows && c < cols {
                        cells.iter().map(|row| row[c]).sum()
                    } else {
                        cells.iter().flatten().sum()
                    };
                    seen[k].insert(v);
                }
                return;
            }
            let (r, c) = s.unknown[i];
            for v in 0..=s.cap {
                cells[r][c] = v;
                search(s, cells, i + 1, seen);
            }
            cells[r][c] = 0;
        }
        for &(r, c) in &unknown {
            cells[r][c] = 0;
        }
        let st = S {
            full,
            hidden,
            unknown: &unknown,
            watched: &watched,
            cap,
        };
        search(&st, &mut cells, 0, &mut seen);
        watched
            .into_iter()
            .zip(seen)
            .map(|(cell, s)| (cell, s.len()))
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The exhaustive attack: no count under the threshold is shown, cells and
        /// totals alike, and none of the suppressed ones has only one value left by
        /// the published figures.
        #[test]
        fn no_suppressed_count_can_be_worked_out(
            rows in 1usize..4,
            cols in 1usize..4,
            values in proptest::collection::vec(prop_oneof![Just(0i64), 1i64..5, 5i64..9], 9),
        ) {
            let table: Vec<Vec<i64>> = (0..rows).map(|r| values[r * 3..r * 3 + cols].to_vec()).collect();
            let full = with_totals(&table);
            let hidden = suppress(&full);
            for (r, row) in full.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    if *v > 0 && *v < DISCLOSURE_THRESHOLD {
                        prop_assert!(hidden[r][c], "{} shown at {},{} of {:?}", v, r, c, &full);
                    }
                }
            }
            for ((r, c), n) in possible_values(&full, &hidden, 12) {
                let v = full[r][c];
                if v > 0 && v < DISCLOSURE_THRESHOLD {
                    prop_assert!(n > 1, "{:?}: {},{} = {} worked out from {:?}", &full, r, c, v, &hidden);
                }
            }
        }
    }

    #[test]
    fn a_lone_small_count_takes_others_with_it() {
        let full = with_totals(&[vec![3, 10, 12], vec![8, 9, 20]]);
        let hidden = suppress(&full);
        assert!(hidden[0][0]);
        let in_row = hidden[0].iter().filter(|h| **h).count();
        let in_col = hidden.iter().filter(|r| r[0]).count();
        assert!(in_row >= 2 && in_col >= 2, "{hidden:?}");
        assert!(pinned(&full, &hidden).is_empty());
        // Nothing small, nothing hidden.
        let full = with_totals(&[vec![5, 0], vec![6, 7]]);
        assert!(suppress(&full).iter().flatten().all(|h| !h));
    }
}

/// Devices and their mass: weighed, estimated by a technician, or counted at their
/// category's estimated weight (`category_estimated_g`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Mass {
    pub devices: i64,
    pub weighed_g: i64,
    pub estimated_g: i64,
    pub unweighed: i64,
    pub category_estimated_g: i64,
}

impl Mass {
    pub fn add(&mut self, o: &Mass) {
        self.devices += o.devices;
        self.weighed_g += o.weighed_g;
        self.estimated_g += o.estimated_g;
        self.unweighed += o.unweighed;
        self.category_estimated_g += o.category_estimated_g;
    }
}

/// An admin's change of the dashboards' settings: what is given is changed, the rest
/// kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateDashboardSettings {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    pub extra_years: Option<i64>,
    /// The states whose threshold changes.
    #[serde(default)]
    pub thresholds: Vec<AgingThreshold>,
}
