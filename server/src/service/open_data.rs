//! The open data: anonymous aggregates per region and month, for anyone, without
//! login, under the Licence Ouverte 2.0. No figure can single out a household: the
//! counts of households are suppressed below 5, with enough other cells that none
//! can be worked out from the totals (`filiere_shared::dashboards::suppress`).

use super::dashboards::{extra_years, factors, households, training_minutes};
use crate::aggregates::{self, Sites, Weights};
use crate::db::DbConnection;
use crate::error::ApiResult;
use crate::schema::regions;
use chrono::{Datelike, Months, NaiveDate};
use diesel::prelude::*;
use filiere_shared::dashboards::{suppress, with_totals};
use filiere_shared::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Months published: the last 24, the current one included.
pub const MONTHS: u32 = 24;

/// The device categories, each with its columns.
pub const CATEGORIES: &[Category] = &[
    Category::Laptop,
    Category::Desktop,
    Category::AllInOne,
    Category::Monitor,
    Category::Tablet,
    Category::Phone,
    Category::Server,
    Category::Printer,
    Category::OtherDevice,
];

/// Devices of one category in one cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CategoryFigures {
    pub collected: i64,
    pub reused: i64,
    pub recycled: i64,
}

/// One line of the open data: a region and a month, a region over every month
/// ("total"), the whole network for a month ("FR"), or the whole network over every
/// month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OpenDataRow {
    /// The region's code, or "FR" for the whole network.
    pub region: String,
    pub region_name: String,
    /// "2026-10", or "total" for every month published.
    pub month: String,
    pub categories: BTreeMap<String, CategoryFigures>,
    pub kg_collected: i64,
    pub kg_reused: i64,
    pub kg_recycled: i64,
    pub co2e_avoided_kg: i64,
    /// `None`: suppressed (fewer than 5, or would let one be worked out).
    pub households_equipped: Option<i64>,
    /// Hours of training sessions held, to the tenth.
    pub training_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OpenData {
    pub licence: String,
    pub producer: String,
    pub generated_at: chrono::DateTime<chrono::Utc>,
    pub first_month: String,
    pub last_month: String,
    pub rows: Vec<OpenDataRow>,
}

#[derive(Default, Clone)]
struct Cell {
    cats: BTreeMap<Category, CategoryFigures>,
    collected: Weights,
    reused: Weights,
    recycled: Weights,
    reused_by_cat: BTreeMap<Category, i64>,
    households: i64,
    minutes: i64,
}

fn grams(w: &Weights, estimated_weight: i64) -> i64 {
    w.weighed_g + w.estimated_g + w.unweighed() * estimated_weight
}

/// Every figure of the open data, suppression applied.
pub fn build(conn: &mut DbConnection, today: NaiveDate) -> ApiResult<OpenData> {
    let last = today.with_day(1).unwrap_or(today);
    let first = last - Months::new(MONTHS - 1);
    aggregates::snapshot(conn, |c| {
        let regions: Vec<(i64, String, String)> = regions::table
            .order(regions::code)
            .select((regions::id, regions::code, regions::name))
            .load(c)?;
        let t = aggregates::read(
            c,
            &Sites::All,
            &aggregates::Want {
                months: Some(first),
                by: aggregates::By::Region,
                flows: Some(&[
                    Flow::Collected,
                    Flow::Sold,
                    Flow::TakenBack,
                    Flow::Recycled,
                    Flow::Equipped,
                ]),
                collections: Some(Vec::new()),
                ..aggregates::Want::default()
            },
        )?;
        let factors = factors(c)?;
        let years = extra_years(c)?;
        let months: Vec<NaiveDate> = (0..MONTHS).map(|i| first + Months::new(i)).collect();
        let mut cells: BTreeMap<(i64, NaiveDate), Cell> = BTreeMap::new();
        for ((region, month, flow, category), w) in &t.months {
            let Ok(category) = Category::from_str(category) else {
                continue;
            };
            if category.kind() != ItemKind::Device || *month > last {
                continue;
            }
            let cell = cells.entry((*region, *month)).or_default();
            let figures = cell.cats.entry(category).or_default();
            match Flow::from_str(flow) {
                Ok(Flow::Collected) => {
                    figures.collected += w.n;
                    add_weights(&mut cell.collected, w, category, &factors);
                }
                Ok(Flow::Sold) => {
                    figures.reused += w.n;
                    *cell.reused_by_cat.entry(category).or_insert(0) += w.n;
                    add_weights(&mut cell.reused, w, category, &factors);
                }
                Ok(Flow::TakenBack) => {
                    figures.reused -= w.n;
                    *cell.reused_by_cat.entry(category).or_insert(0) -= w.n;
                    let neg = Weights {
                        n: -w.n,
                        weighed_n: -w.weighed_n,
                        weighed_g: -w.weighed_g,
                        estimated_n: -w.estimated_n,
                        estimated_g: -w.estimated_g,
                    };
                    add_weights(&mut cell.reused, &neg, category, &factors);
                }
                Ok(Flow::Recycled) => {
                    figures.recycled += w.n;
                    add_weights(&mut cell.recycled, w, category, &factors);
                }
                _ => {}
            }
        }
        for ((region, month), n) in households(&t) {
            if month <= last {
                cells.entry((region, month)).or_default().households += n;
            }
        }
        for ((region, month), m) in training_minutes(c, first)? {
            if month <= last {
                cells.entry((region, month)).or_default().minutes += m;
            }
        }
        // Households: regions × months, with the totals around them, suppressed.
        let table: Vec<Vec<i64>> = regions
            .iter()
            .map(|(r, _, _)| {
                months
                    .iter()
                    .map(|m| cells.get(&(*r, *m)).map_or(0, |c| c.households))
                    .collect()
            })
            .collect();
        let full = with_totals(&table);
        let hidden = suppress(&full);
        let shown = |r: usize, m: usize| (!hidden[r][m]).then(|| full[r][m]);
        let mut rows = Vec::new();
        let row_of = |region: (&str, &str), month: String, cell: &Cell, households: Option<i64>| {
            let co2e: i64 = cell
                .reused_by_cat
                .iter()
                .map(|(cat, n)| {
                    factors
                        .get(cat)
                        .and_then(|f| f.avoided_g_per_year)
                        .map_or(0, |a| a * n * years)
                })
                .sum();
            OpenDataRow {
                region: region.0.to_owned(),
                region_name: region.1.to_owned(),
                month,
                categories: CATEGORIES
                    .iter()
                    .map(|c| {
                        (
                            c.as_str().to_owned(),
                            cell.cats.get(c).copied().unwrap_or_default(),
                        )
                    })
                    .collect(),
                kg_collected: (cell.collected.weighed_g + 500) / 1000,
                kg_reused: (cell.reused.weighed_g + 500) / 1000,
                kg_recycled: (cell.recycled.weighed_g + 500) / 1000,
                co2e_avoided_kg: (co2e + 500) / 1000,
                households_equipped: households,
                training_hours: (cell.minutes as f64 / 6.0).round() / 10.0,
            }
        };
        let merge = |cells: &mut dyn Iterator<Item = &Cell>| -> Cell {
            let mut out = Cell::default();
            for c in cells {
                for (cat, f) in &c.cats {
                    let o = out.cats.entry(*cat).or_default();
                    o.collected += f.collected;
                    o.reused += f.reused;
                    o.recycled += f.recycled;
                }
                out.collected.add(c.collected);
                out.reused.add(c.reused);
                out.recycled.add(c.recycled);
                for (cat, n) in &c.reused_by_cat {
                    *out.reused_by_cat.entry(*cat).or_insert(0) += n;
                }
                out.households += c.households;
                out.minutes += c.minutes;
            }
            out
        };
        let empty = Cell::default();
        for (ri, (r, code, name)) in regions.iter().enumerate() {
            for (mi, m) in months.iter().enumerate() {
                let cell = cells.get(&(*r, *m)).unwrap_or(&empty);
                rows.push(row_of(
                    (code, name),
                    m.format("%Y-%m").to_string(),
                    cell,
                    shown(ri, mi),
                ));
            }
            let all = merge(&mut months.iter().filter_map(|m| cells.get(&(*r, *m))));
            rows.push(row_of(
                (code, name),
                "total".into(),
                &all,
                shown(ri, months.len()),
            ));
        }
        let national = "Ensemble du réseau";
        for (mi, m) in months.iter().enumerate() {
            let all = merge(&mut regions.iter().filter_map(|(r, _, _)| cells.get(&(*r, *m))));
            rows.push(row_of(
                ("FR", national),
                m.format("%Y-%m").to_string(),
                &all,
                shown(regions.len(), mi),
            ));
        }
        let all = merge(
            &mut cells
                .iter()
                .filter(|((_, m), _)| *m <= last)
                .map(|(_, c)| c),
        );
        rows.push(row_of(
            ("FR", national),
            "total".into(),
            &all,
            shown(regions.len(), months.len()),
        ));
        Ok(OpenData {
            licence: "Licence Ouverte / Open Licence 2.0 (Etalab), https://www.etalab.gouv.fr/licence-ouverte-open-licence/".into(),
            producer: "Filière".into(),
            generated_at: chrono::Utc::now(),
            first_month: first.format("%Y-%m").to_string(),
            last_month: last.format("%Y-%m").to_string(),
            rows,
        })
    })
}

/// Adds a flow's weights, the unweighed ones at their category's estimate (as
/// estimated grams, so that the weighed total holds every kilogram).
fn add_weights(
    into: &mut Weights,
    w: &Weights,
    category: Category,
    factors: &BTreeMap<Category, super::dashboards::Factor>,
) {
    let est = factors.get(&category).map_or(0, |f| f.estimated_weight_g);
    into.add(Weights {
        n: w.n,
        weighed_n: w.n,
        weighed_g: grams(w, est),
        estimated_n: 0,
        estimated_g: 0,
    });
}

/// The CSV's columns, in order, with what each holds (for the page that describes
/// them).
pub fn columns() -> Vec<(String, &'static str, &'static str)> {
    let mut out: Vec<(String, &'static str, &'static str)> = vec![
        (
            "region".into(),
            "Code de la région, ou FR pour l'ensemble du réseau.",
            "The region's code, or FR for the whole network.",
        ),
        (
            "region_name".into(),
            "Nom de la région.",
            "The region's name.",
        ),
        (
            "month".into(),
            "Mois (AAAA-MM, heure de Paris), ou « total » pour tous les mois publiés.",
            "Month (YYYY-MM, Paris time), or \"total\" for every month published.",
        ),
    ];
    for c in CATEGORIES {
        let s = c.as_str();
        out.push((
            format!("{s}_collected"),
            "Appareils de cette catégorie collectés (enregistrés à une collecte ou à l'atelier).",
            "Devices of this category collected (registered at a collection or at the workshop).",
        ));
        out.push((
            format!("{s}_reused"),
            "Appareils de cette catégorie réemployés : vendus, moins ceux repris après vente.",
            "Devices of this category reused: sold, less those taken back after sale.",
        ));
        out.push((
            format!("{s}_recycled"),
            "Appareils de cette catégorie remis à un recycleur agréé.",
            "Devices of this category handed to a certified recycler.",
        ));
    }
    out.extend([
        ("kg_collected".into(), "Masse des appareils collectés, en kg (pesée, sinon estimée par catégorie).", "Mass of the devices collected, in kg (weighed, else estimated by category)."),
        ("kg_reused".into(), "Masse des appareils réemployés, en kg : évitée aux déchets.", "Mass of the devices reused, in kg: kept out of waste."),
        ("kg_recycled".into(), "Masse des appareils recyclés, en kg.", "Mass of the devices recycled, in kg."),
        ("co2e_avoided_kg".into(), "Émissions évitées, en kg CO2e : appareils réemployés × facteur ADEME par année d'usage en plus × années supposées.", "Emissions avoided, in kg CO2e: devices reused × ADEME factor per extra year of use × years assumed."),
        ("households_equipped".into(), "Foyers équipés pour la première fois. Vide quand le nombre est inférieur à 5, ou quand il permettrait de retrouver un nombre caché.", "Households equipped for the first time. Empty when below 5, or when it would let a hidden count be worked out."),
        ("training_hours".into(), "Heures de séances de formation tenues (au moins une personne présente).", "Hours of training sessions held (at least one person present)."),
    ]);
    out
}

/// The header and the lines of the CSV.
pub fn csv_rows(d: &OpenData) -> (Vec<String>, Vec<Vec<String>>) {
    let head: Vec<String> = columns().into_iter().map(|(c, _, _)| c).collect();
    let rows = d
        .rows
        .iter()
        .map(|r| {
            let mut v = vec![r.region.clone(), r.region_name.clone(), r.month.clone()];
            for c in CATEGORIES {
                let f = r.categories.get(c.as_str()).copied().unwrap_or_default();
                v.push(f.collected.to_string());
                v.push(f.reused.to_string());
                v.push(f.recycled.to_string());
            }
            v.push(r.kg_collected.to_string());
            v.push(r.kg_reused.to_string());
            v.push(r.kg_recycled.to_string());
            v.push(r.co2e_avoided_kg.to_string());
            v.push(
                r.households_equipped
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            );
            v.push(format!("{:.1}", r.training_hours).replace('.', ","));
            v
        })
        .collect();
    (head, rows)
}
