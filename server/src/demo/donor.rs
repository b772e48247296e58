//! A public body's collection to show the donor's documents on: the Métropole de
//! Lyon's six machines, received and closed, each taken through the chain (ready,
//! torn down, sent to recycling, a monitor without a drive), all but one drive
//! erased or destroyed. The receipt can be issued at once; the erasure certificate
//! once that last drive (`S3Z9NB0K123456`, the one of the nwipe log in `fixtures/`)
//! is erased.

use super::{DemoError, Generator};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::service::{collections, events, labels};
use chrono::{Duration, Utc};
use filiere_shared::api::*;
use filiere_shared::lifecycle::DriveSpec;
use filiere_shared::*;

/// The drive the demo leaves to erase.
pub const LAST_DRIVE: &str = "S3Z9NB0K123456";

struct Machine {
    category: Category,
    brand: &'static str,
    model: &'static str,
    weight_g: i64,
    drive: Option<(
        &'static str,
        &'static str,
        &'static str,
        u32,
        DriveBus,
        DriveMedia,
    )>,
    to: Route,
}

const MACHINES: [Machine; 6] = [
    Machine {
        category: Category::Laptop,
        brand: "Lenovo",
        model: "ThinkPad T480",
        weight_g: 1_650,
        drive: Some((
            "S4EWNX0N81",
            "Samsung",
            "PM981",
            256,
            DriveBus::Nvme,
            DriveMedia::Ssd,
        )),
        to: Route::Refurbish,
    },
    Machine {
        category: Category::Laptop,
        brand: "Dell",
        model: "Latitude 5490",
        weight_g: 1_750,
        drive: Some((
            "2J3920A1QX",
            "SK hynix",
            "SC311",
            256,
            DriveBus::Sata,
            DriveMedia::Ssd,
        )),
        to: Route::Refurbish,
    },
    Machine {
        category: Category::Desktop,
        brand: "HP",
        model: "ProDesk 600 G3",
        weight_g: 5_600,
        drive: Some((
            "WCC6Y4KX31",
            "Western Digital",
            "WD5000AZLX",
            500,
            DriveBus::Sata,
            DriveMedia::Hdd,
        )),
        to: Route::Harvest,
    },
    Machine {
        category: Category::Desktop,
        brand: "Fujitsu",
        model: "Esprimo P556",
        weight_g: 6_900,
        drive: Some((
            "Z9A0C2MT",
            "Seagate",
            "ST500DM009",
            500,
            DriveBus::Sata,
            DriveMedia::Hdd,
        )),
        to: Route::Recycle,
    },
    Machine {
        category: Category::Monitor,
        brand: "Dell",
        model: "P2219H",
        weight_g: 4_700,
        drive: None,
        to: Route::Refurbish,
    },
    Machine {
        category: Category::Laptop,
        brand: "HP",
        model: "EliteBook 840 G5",
        weight_g: 1_480,
        drive: Some((
            LAST_DRIVE,
            "Samsung",
            "SSD 860",
            500,
            DriveBus::Sata,
            DriveMedia::Ssd,
        )),
        to: Route::Refurbish,
    },
];

pub(super) fn town_hall(
    conn: &mut DbConnection,
    generator: &mut Generator,
    site: &SiteView,
    tech: &Actor,
    coord: &Actor,
    donor: &OrganisationView,
) -> Result<(), DemoError> {
    let pickup = Utc::now() - Duration::days(20);
    let collection = collections::create(
        conn,
        coord,
        &NewCollection {
            donor: donor.id,
            site: site.id,
            pickup_date: pickup.date_naive(),
            pickup_address: Some("Hôtel de la Métropole, 20 rue du Lac, 69003 Lyon".into()),
            declared_count: MACHINES.len() as i32,
            declared_weight_g: Some(22_000),
            legal_status: LegalStatus::Reuse,
            waste_code: None,
            reference: Some("METRO-2026-11".into()),
            notes: Some("Renouvellement du parc de la direction des finances".into()),
        },
    )?;
    let batch = labels::allocate(
        conn,
        tech,
        &NewLabelBatch {
            site: site.id,
            count: MACHINES.len() as i32 + 1,
            bench: None,
        },
    )?;
    let mut codes = batch.codes.into_iter().map(|c| c.as_str().to_owned());
    let mut next_code = move || codes.next().unwrap_or_default();
    for (n, m) in MACHINES.iter().enumerate() {
        let mut at = pickup + Duration::days(1) + Duration::minutes(20 * n as i64);
        let drives: Vec<DriveSpec> = m
            .drive
            .iter()
            .map(|(serial, make, model, size, bus, media)| DriveSpec {
                serial: (*serial).into(),
                make: Some((*make).into()),
                model: Some((*model).into()),
                size_gb: Some(*size),
                bus: Some(*bus),
                media: Some(*media),
            })
            .collect();
        let reg = RegisterItem {
            idempotency_key: generator.key(),
            code: next_code(),
            category: m.category,
            site: Some(site.id),
            collection: Some(collection.id),
            at_workshop: true,
            brand: Some(m.brand.into()),
            model: Some(m.model.into()),
            serial: Some(generator.serial("PF")),
            asset_tag: Some(format!("MDL-INV-{:04}", 2210 + n)),
            specs: Specs::default(),
            weight_g: Some(m.weight_g),
            weight_estimated: false,
            no_drive: drives.is_empty(),
            drives: drives.clone(),
            occurred_at: Some(at),
        };
        let mut item = events::register(conn, tech, &reg)?.item;
        generator.items += 1;
        generator.events += 2;
        generator.ev(
            conn,
            tech,
            &mut item,
            &mut at,
            Command::Triage { route: m.to },
        )?;
        let last = drives.iter().any(|d| d.serial == LAST_DRIVE);
        match m.to {
            Route::Refurbish if !last => {
                for d in &drives {
                    let erasure = generator.erasure(at, d, true);
                    let serial = d.serial.clone();
                    generator.ev(
                        conn,
                        tech,
                        &mut item,
                        &mut at,
                        Command::EraseDrive { serial, erasure },
                    )?;
                }
                let report = generator.qa(m.category);
                generator.ev(conn, tech, &mut item, &mut at, Command::QaTest { report })?;
                generator.ev(conn, tech, &mut item, &mut at, Command::MarkReady)?;
            }
            Route::Refurbish => {}
            Route::Harvest => {
                for d in &drives {
                    let erasure = generator.erasure(at, d, true);
                    let serial = d.serial.clone();
                    generator.ev(
                        conn,
                        tech,
                        &mut item,
                        &mut at,
                        Command::EraseDrive { serial, erasure },
                    )?;
                    generator.ev(
                        conn,
                        tech,
                        &mut item,
                        &mut at,
                        Command::HarvestPart {
                            code: next_code(),
                            category: Category::Hdd,
                            brand: d.make.clone(),
                            model: d.model.clone(),
                            serial: None,
                            specs: Specs {
                                storage_gb: d.size_gb,
                                part_spec: d.size_gb.map(|s| format!("{s} GB")),
                                ..Specs::default()
                            },
                            weight_g: Some(450),
                            drive_serial: Some(d.serial.clone()),
                        },
                    )?;
                }
                generator.ev(conn, tech, &mut item, &mut at, Command::FinishTeardown)?;
            }
            Route::Recycle => {
                for d in &drives {
                    generator.ev(
                        conn,
                        tech,
                        &mut item,
                        &mut at,
                        Command::DestroyDrive {
                            serial: d.serial.clone(),
                            method: "Perforation".into(),
                            notes: Some("Disque hors service (secteurs défectueux)".into()),
                        },
                    )?;
                }
            }
        }
    }
    collections::close(conn, coord, collection.id, &CloseCollection { notes: None })?;
    Ok(())
}
