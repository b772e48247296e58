//! The demo's donors' offers, as the public form would have brought them: a town
//! hall's 30 laptops and a firm's few machines waiting for the Auvergne-Rhône-Alpes
//! coordinator, and an offer the Île-de-France coordinator declined.

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::ApiResult;
use crate::service::offers;
use filiere_shared::offers::*;
use filiere_shared::*;

fn offer(
    region: RegionId,
    name: &str,
    siret: &str,
    public_body: bool,
    counts: [i32; 4],
) -> NewOffer {
    NewOffer {
        region,
        organisation_name: name.into(),
        siret: siret.into(),
        public_body,
        contact_name: if public_body {
            "Claire Morel"
        } else {
            "Julien Durand"
        }
        .into(),
        email: if public_body {
            "dsi@mairie-villeurbanne.example"
        } else {
            "contact@cabinet-durand.example"
        }
        .into(),
        phone: Some("04 72 00 00 00".into()),
        address: if public_body {
            "Place Lazare-Goujon, 69100 Villeurbanne"
        } else {
            "18 rue Garibaldi, 69006 Lyon"
        }
        .into(),
        availability: "À partir de la semaine prochaine, le matin".into(),
        laptops: counts[0],
        desktops: counts[1],
        monitors: counts[2],
        others: counts[3],
        notes: public_body
            .then(|| "Parc renouvelé : les disques sont encore dans les machines.".into()),
    }
}

/// Loads the offers; `ara` and `idf` are the two regions' coordinators.
pub fn load(conn: &mut DbConnection, ara: &Actor, idf: &Actor) -> ApiResult<usize> {
    let (Some(r_ara), Some(r_idf)) = (ara.region, idf.region) else {
        return Ok(0);
    };
    let lang = Lang::Fr;
    offers::submit(
        conn,
        &offer(
            r_ara,
            "Mairie de Villeurbanne",
            "21690266800013",
            true,
            [30, 0, 0, 0],
        ),
        "demo",
        "demo-offer-000000000001",
        lang,
    )?;
    offers::submit(
        conn,
        &offer(
            r_ara,
            "Cabinet Durand & Associés",
            "48213749200013",
            false,
            [6, 2, 4, 1],
        ),
        "demo",
        "demo-offer-000000000002",
        lang,
    )?;
    let declined = offers::submit(
        conn,
        &offer(
            r_idf,
            "Imprimerie Moderne",
            "77551234500015",
            false,
            [0, 0, 0, 3],
        ),
        "demo",
        "demo-offer-000000000003",
        lang,
    )?;
    offers::decline(
        conn,
        idf,
        declined.id,
        &DeclineOffer {
            reason: Some(
                "Trois imprimeries industrielles : orientées vers un recycleur agréé.".into(),
            ),
        },
    )?;
    Ok(3)
}
