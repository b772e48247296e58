//! A donor's asset list, as its spreadsheet exports it (CSV, `;` or `,`, with or
//! without a byte-order mark): the columns recognised by their usual French or English
//! names, each line read into an item to pre-register, or the problems that keep it
//! out, with its line number as the spreadsheet shows it.

use crate::domain::{Category, ImportStatus};
use crate::ids::{CollectionId, LabelBatchId};
use crate::names::Named;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The most lines one list may hold.
pub const MAX_LINES: usize = 10_000;

/// One item of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AssetLine {
    /// As the spreadsheet numbers it (the header is line 1).
    pub line: usize,
    pub category: Category,
    pub asset_tag: Option<String>,
    pub serial: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub drive_serial: Option<String>,
}

/// What importing a list would do, before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AssetPreview {
    pub collection: CollectionId,
    /// Lines read (blank ones left aside).
    pub lines: usize,
    /// To pre-register as `collected`, each with a fresh code.
    pub new: usize,
    /// Already in the collection (same asset tag, or same serial number): left as
    /// they are.
    pub already: Vec<usize>,
    /// Every problem with its line: while there is one, nothing is imported.
    pub problems: Vec<LineProblem>,
}

/// An import under way or done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AssetImportView {
    pub id: i64,
    pub collection: CollectionId,
    pub status: ImportStatus,
    /// Lines to register, and how many are.
    pub total: i32,
    pub done: i32,
    /// Lines already in the collection, left as they were.
    pub already: i32,
    /// The codes allocated for the new items, whose intake labels the pickup team
    /// prints and sticks at the donor's.
    pub label_batch: Option<LabelBatchId>,
    pub error: Option<String>,
}

/// What keeps a line (or the file) out: line 0 is the file itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LineProblem {
    pub line: usize,
    /// The column, as the file names it (empty for the whole line).
    pub column: String,
    pub message: String,
}

/// The columns Filière reads, and the names it knows them by (compared without
/// accents, case, spaces or punctuation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    AssetTag,
    Serial,
    Brand,
    Model,
    Category,
    DriveSerial,
}

const NAMES: &[(Column, &[&str])] = &[
    (
        Column::AssetTag,
        &[
            "ndinventaire",
            "numerodinventaire",
            "inventaire",
            "numinventaire",
            "noinventaire",
            "immobilisation",
            "etiquette",
            "assettag",
            "asset",
            "tag",
        ],
    ),
    (
        Column::Serial,
        &[
            "ndeserie",
            "numerodeserie",
            "noserie",
            "serie",
            "serial",
            "serialnumber",
            "sn",
        ],
    ),
    (
        Column::Brand,
        &[
            "marque",
            "fabricant",
            "constructeur",
            "brand",
            "make",
            "manufacturer",
        ],
    ),
    (
        Column::Model,
        &["modele", "model", "designation", "reference"],
    ),
    (
        Column::Category,
        &["categorie", "type", "typedappareil", "category", "kind"],
    ),
    (
        Column::DriveSerial,
        &[
            "ndeseriedudisque",
            "seriedudisque",
            "numerodeseriedudisque",
            "disque",
            "drive",
            "driveserial",
            "disk",
            "diskserial",
            "hdd",
            "ssd",
        ],
    ),
];

/// A header or a value without accents, case, spaces or punctuation.
fn key(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let c = match c {
                'à' | 'â' | 'ä' | 'À' | 'Â' => 'a',
                'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' => 'e',
                'î' | 'ï' | 'Î' => 'i',
                'ô' | 'ö' | 'Ô' => 'o',
                'ù' | 'û' | 'ü' | 'Û' => 'u',
                'ç' | 'Ç' => 'c',
                c => c,
            };
            c.to_lowercase()
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn column_of(header: &str) -> Option<Column> {
    let k = key(header);
    NAMES
        .iter()
        .find(|(_, names)| names.contains(&k.as_str()))
        .map(|(c, _)| *c)
}

/// A category as a donor writes it: Filière's own names (French or English) and the
/// usual words of inventories.
pub fn category_of(value: &str) -> Option<Category> {
    let k = key(value);
    if k.is_empty() {
        return None;
    }
    for c in Category::ALL {
        let (fr, en) = c.names();
        if [key(fr), key(en), key(c.as_str())].contains(&k) {
            return Some(*c);
        }
    }
    let words: &[(&str, Category)] = &[
        ("ordinateurportable", Category::Laptop),
        ("pcportable", Category::Laptop),
        ("notebook", Category::Laptop),
        ("ultraportable", Category::Laptop),
        ("ordinateurfixe", Category::Desktop),
        ("pcfixe", Category::Desktop),
        ("fixe", Category::Desktop),
        ("tour", Category::Desktop),
        ("uc", Category::Desktop),
        ("pc", Category::Desktop),
        ("toutenun", Category::AllInOne),
        ("aio", Category::AllInOne),
        ("moniteur", Category::Monitor),
        ("ecranplat", Category::Monitor),
        ("smartphone", Category::Phone),
        ("telephoneportable", Category::Phone),
        ("mobile", Category::Phone),
        ("ipad", Category::Tablet),
        ("copieur", Category::Printer),
        ("multifonction", Category::Printer),
    ];
    words.iter().find(|(w, _)| *w == k).map(|(_, c)| *c)
}

fn text(value: &str, max: usize) -> Result<Option<String>, (String, String)> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err((
            format!("{max} caractères au plus"),
            format!("at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err((
            "caractère de contrôle".to_owned(),
            "control character".to_owned(),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// The list read: its lines, or every problem found (then nothing is imported).
pub fn parse(bytes: &[u8], lang: crate::Lang) -> Result<Vec<AssetLine>, Vec<LineProblem>> {
    let problem = |line: usize, column: &str, fr: &str, en: &str| LineProblem {
        line,
        column: column.to_owned(),
        message: lang.pick(fr, en).to_owned(),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text_in) = std::str::from_utf8(bytes) else {
        return Err(vec![problem(
            0,
            "",
            "le fichier n'est pas en UTF-8 : enregistrez-le en « CSV UTF-8 »",
            "the file is not UTF-8: save it as \"CSV UTF-8\"",
        )]);
    };
    let first = text_in.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() >= first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text_in.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(_) => {
            return Err(vec![problem(
                1,
                "",
                "la ligne d'en-tête est illisible",
                "the header line cannot be read",
            )]);
        }
    };
    let columns: Vec<Option<Column>> = headers.iter().map(|h| column_of(h)).collect();
    let name_of = |c: Column| -> String {
        columns
            .iter()
            .position(|x| *x == Some(c))
            .map(|i| headers[i].clone())
            .unwrap_or_default()
    };
    let mut problems = Vec::new();
    if !columns.contains(&Some(Column::Category)) {
        problems.push(problem(
            1,
            "",
            "il manque la colonne de la catégorie (« Catégorie » ou « Type »)",
            "the category column is missing (\"Category\" or \"Type\")",
        ));
    }
    if !columns.contains(&Some(Column::AssetTag)) && !columns.contains(&Some(Column::Serial)) {
        problems.push(problem(
            1,
            "",
            "il faut une colonne « N° d'inventaire » ou « N° de série » pour reconnaître chaque appareil",
            "an \"Asset tag\" or \"Serial number\" column is needed to recognise each device",
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Vec::new();
    let mut seen_tags = std::collections::HashMap::new();
    let mut seen_serials = std::collections::HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        if out.len() + problems.len() >= MAX_LINES {
            problems.push(problem(
                line,
                "",
                "10 000 lignes au plus par fichier : coupez-le en plusieurs",
                "10,000 lines at most per file: split it",
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                problems.push(problem(line, "", "ligne illisible", "unreadable line"));
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut get = |c: Column, max: usize| -> Option<String> {
            let i = columns.iter().position(|x| *x == Some(c))?;
            match text(record.get(i).unwrap_or(""), max) {
                Ok(v) => v,
                Err((fr, en)) => {
                    problems.push(LineProblem {
                        line,
                        column: headers[i].clone(),
                        message: lang.pick(&fr, &en).to_owned(),
                    });
                    None
                }
            }
        };
        let asset_tag = get(Column::AssetTag, 100);
        let serial = get(Column::Serial, 100);
        let brand = get(Column::Brand, 100);
        let model = get(Column::Model, 100);
        let drive_serial = get(Column::DriveSerial, 100);
        let raw_category = get(Column::Category, 100);
        let before = problems.len();
        let category = match raw_category.as_deref().map(category_of) {
            Some(Some(c)) if c.kind() == crate::ItemKind::Device => Some(c),
            Some(_) => {
                problems.push(problem(
                    line,
                    &name_of(Column::Category),
                    &format!(
                        "catégorie inconnue « {} » (portable, unité centrale, écran, tablette, téléphone…)",
                        raw_category.as_deref().unwrap_or("")
                    ),
                    &format!(
                        "unknown category \"{}\" (laptop, desktop, monitor, tablet, phone…)",
                        raw_category.as_deref().unwrap_or("")
                    ),
                ));
                None
            }
            None => {
                problems.push(problem(
                    line,
                    &name_of(Column::Category),
                    "catégorie manquante",
                    "category missing",
                ));
                None
            }
        };
        if asset_tag.is_none() && serial.is_none() {
            problems.push(problem(
                line,
                "",
                "ni n° d'inventaire ni n° de série : l'appareil ne pourrait pas être reconnu",
                "neither asset tag nor serial number: the device could not be recognised",
            ));
        }
        if let Some(t) = &asset_tag
            && let Some(first) = seen_tags.insert(key(t), line)
        {
            problems.push(problem(
                line,
                &name_of(Column::AssetTag),
                &format!("n° d'inventaire déjà à la ligne {first}"),
                &format!("asset tag already on line {first}"),
            ));
        }
        if let Some(s) = &serial
            && let Some(first) = seen_serials.insert(key(s), line)
        {
            problems.push(problem(
                line,
                &name_of(Column::Serial),
                &format!("n° de série déjà à la ligne {first}"),
                &format!("serial number already on line {first}"),
            ));
        }
        if problems.len() > before {
            continue;
        }
        if let Some(category) = category {
            out.push(AssetLine {
                line,
                category,
                asset_tag,
                serial,
                brand,
                model,
                drive_serial,
            });
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(problem(
            0,
            "",
            "le fichier n'a aucune ligne",
            "the file has no line",
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    #[test]
    fn a_french_spreadsheet_is_read_with_its_own_headers() {
        let csv = "\u{feff}N° d'inventaire;Marque;Modèle;N° de série;Type;Disque\r\n\
                   INV-1;Dell;Latitude 5490;5CG1;Ordinateur portable;S3Z9\r\n\
                   INV-2;HP;ProDesk 600;CZC2;Unité centrale;\r\n\
                   ;;;;;\r\n\
                   INV-3;Dell;P2219H;CN-3;écran;\r\n";
        let lines = parse(csv.as_bytes(), Lang::Fr).expect("read");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].category, Category::Laptop);
        assert_eq!(lines[0].drive_serial.as_deref(), Some("S3Z9"));
        assert_eq!(lines[1].category, Category::Desktop);
        assert_eq!(lines[1].drive_serial, None);
        assert_eq!(lines[2].line, 5, "the blank line keeps its number");
        assert_eq!(lines[2].category, Category::Monitor);
    }

    #[test]
    fn every_bad_line_is_named_with_its_number() {
        let csv = "asset tag,serial,brand,model,category\n\
                   A1,S1,Dell,X,laptop\n\
                   A2,S2,Dell,X,toaster\n\
                   ,,Dell,X,laptop\n\
                   A1,S4,Dell,X,laptop\n\
                   A5,S5,Dell,X,\n";
        let problems = parse(csv.as_bytes(), Lang::En).expect_err("refused");
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert!(problems[0].message.contains("toaster"));
        assert_eq!(problems[2].column, "asset tag");
        assert!(problems[2].message.contains("line 2"));
    }

    #[test]
    fn a_file_without_the_needed_columns_is_refused_at_its_header() {
        let problems = parse(b"brand;model\nDell;X\n", Lang::Fr).expect_err("refused");
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|p| p.line == 1));
        let problems = parse(b"\xff\xfe", Lang::Fr).expect_err("refused");
        assert_eq!(problems[0].line, 0);
    }
}
