use super::*;
use crate::code::LabelCode;

fn code(s: &str) -> LabelCode {
    LabelCode::parse(s).expect("valid code")
}

fn template(name: &str) -> Template {
    builtin_templates()
        .into_iter()
        .find(|t| t.name == name)
        .expect("built-in template")
}

fn opts(host: Option<&str>) -> RenderOptions {
    RenderOptions {
        host: host.map(str::to_owned),
        lang: crate::error::Lang::Fr,
    }
}

#[test]
fn built_in_templates_load_and_validate() {
    let t = builtin_templates();
    let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["intake", "part", "sale"]);
    for t in &t {
        t.validate("HTTPS://FILIERE.EXAMPLE.ORG/I/7K3M9QX8")
            .expect("built-in template is valid");
    }
    assert!(!template("intake").needs_item());
    assert!(template("part").needs_item());
    assert_eq!(template("part").qr.ecc, Ecc::Q);
    assert_eq!(template("sale").qr.ecc, Ecc::M);
}

#[test]
fn sheets_add_up_to_a4() {
    for kind in SheetKind::ALL {
        let s = kind.sheet();
        let right = s.left_mm + (s.columns - 1) as f64 * s.h_pitch_mm + s.label.width_mm;
        let bottom = s.top_mm + (s.rows - 1) as f64 * s.v_pitch_mm + s.label.height_mm;
        // Symmetric margins: what is left on the right equals the left margin.
        assert!((210.0 - right - s.left_mm).abs() < 0.01, "{kind:?} width");
        assert!((297.0 - bottom - s.top_mm).abs() < 0.01, "{kind:?} height");
        assert!(s.h_pitch_mm >= s.label.width_mm && s.v_pitch_mm >= s.label.height_mm);
    }
    assert_eq!(SheetKind::L7160.sheet().slots(), 21);
    assert_eq!(SheetKind::L7163.sheet().slots(), 14);
    assert_eq!(SheetKind::L7651.sheet().slots(), 65);
    assert_eq!(
        SheetKind::L7160.sheet().slot_origin(4),
        (7.25 + 66.0, 15.15 + 38.1)
    );
    assert_eq!(SheetKind::parse("l7651"), Some(SheetKind::L7651));
    assert_eq!(SheetKind::parse("L7000"), None);
}

#[test]
fn too_small_modules_and_quiet_zones_are_refused() {
    let c = code("7K3M9QX8");
    let mut t = template("intake");
    t.qr.size_mm = Some(8.0);
    let content = c.qr_content(Some("filiere.example.org"));
    assert!(matches!(
        t.validate(&content),
        Err(LabelError::ModuleTooSmall { .. })
    ));
    assert!(matches!(
        layout(
            &t,
            LabelSize::new(50.0, 25.0),
            &LabelData::blank(c),
            &opts(Some("filiere.example.org"))
        ),
        Err(LabelError::ModuleTooSmall { .. })
    ));
    let mut t = template("intake");
    t.qr.quiet_modules = 2;
    assert_eq!(
        t.validate(&content),
        Err(LabelError::QuietZoneTooSmall { modules: 2 })
    );
    // A label too small for the content: 12 mm high cannot hold a URL symbol.
    assert!(matches!(
        layout(
            &template("intake"),
            LabelSize::new(30.0, 12.0),
            &LabelData::blank(c),
            &opts(Some("filiere.example.org"))
        ),
        Err(LabelError::ModuleTooSmall { .. })
    ));
    // Whole pixels: at 100 dpi a 0.4 mm module is one pixel of 0.254 mm.
    let mut t = template("intake");
    t.qr.size_mm = Some(0.4 * 33.0);
    let l = layout(
        &t,
        LabelSize::new(38.0, 21.2),
        &LabelData::blank(c),
        &opts(Some("filiere.example.org")),
    )
    .expect("layout");
    assert_eq!(l.qr.modules, 25);
    assert!(png(&l, 600).is_ok());
    assert!(matches!(
        png(&l, 100),
        Err(LabelError::ModuleTooSmall { .. })
    ));
}

#[test]
fn template_validation_names_the_problem() {
    let ok = template("sale");
    let check = |f: &dyn Fn(&mut Template)| {
        let mut t = ok.clone();
        f(&mut t);
        t.validate("7K3M9QX8")
    };
    assert!(matches!(
        check(&|t| t.name = "Bad Name".into()),
        Err(LabelError::InvalidTemplate(_))
    ));
    assert!(matches!(
        check(&|t| t.fields.clear()),
        Err(LabelError::InvalidTemplate(_))
    ));
    assert!(matches!(
        check(&|t| t.fields.retain(|f| f.field != Field::Code)),
        Err(LabelError::InvalidTemplate(_))
    ));
    assert!(matches!(
        check(&|t| t.fields[0].size_mm = 0.5),
        Err(LabelError::InvalidTemplate(_))
    ));
    assert!(matches!(
        check(&|t| t.margin_mm = -1.0),
        Err(LabelError::InvalidTemplate(_))
    ));
    let json = r#"{"name":"x","margin_mm":1,"qr":{"ecc":"L"},"fields":[]}"#;
    assert!(
        serde_json::from_str::<Template>(json).is_err(),
        "error correction L refused"
    );
    let json = r#"{"name":"asso","margin_mm":1.5,"qr":{"ecc":"Q","size_mm":20},
                   "fields":[{"field":"code","size_mm":3},{"field":{"text":"Emmaüs Connect"},"size_mm":2}]}"#;
    let t: Template = serde_json::from_str(json).expect("a site's own template");
    t.validate("HTTPS://FILIERE.EXAMPLE.ORG/I/7K3M9QX8")
        .expect("valid");
}

#[test]
fn texts_are_laid_out_in_the_label_language_and_fit() {
    let mut d = LabelData::blank(code("7K3M9QX8"));
    d.category = Some(crate::domain::Category::Laptop);
    d.brand = Some("Lenovo".into());
    d.model = Some("ThinkPad T480 with a very long model name".into());
    d.specs.cpu = Some("Intel Core i5-8350U".into());
    d.specs.ram_gb = Some(8);
    d.specs.storage_gb = Some(256);
    d.specs.storage_type = Some("SSD".into());
    d.functional_grade = Some(crate::domain::Grade::A);
    d.cosmetic_grade = Some(crate::domain::Grade::B);
    d.erased_on = chrono::NaiveDate::from_ymd_opt(2026, 11, 20);
    let size = SheetKind::L7163.sheet().label;
    let l = layout(&template("sale"), size, &d, &opts(None)).expect("layout");
    let texts: Vec<&str> = l.lines.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts[0], "7K3M-9QX8");
    assert!(texts[1].starts_with("Lenovo Think") && texts[1].ends_with('…'));
    assert_eq!(texts[3], "RAM 8 Go · 256 Go SSD");
    assert_eq!(texts[4], "Fonct. A · Esth. B");
    assert_eq!(texts[5], "Effacé le 20/11/2026");
    for t in &l.lines {
        let right = t.x_mm + t.text.chars().count() as f64 * 0.61 * t.size_mm;
        assert!(right <= size.width_mm - 1.0 + 1e-6, "{} overruns", t.text);
        assert!(t.baseline_mm <= size.height_mm - 1.0);
        assert!(
            t.x_mm >= l.qr.x_mm + l.qr.size_mm,
            "text clear of the quiet zone"
        );
    }
    let en = layout(
        &template("sale"),
        size,
        &d,
        &RenderOptions {
            host: None,
            lang: crate::error::Lang::En,
        },
    )
    .expect("layout");
    assert_eq!(en.lines[4].text, "Func. A · Cosm. B");
    assert_eq!(en.lines[5].text, "Erased 2026-11-20");
}

#[test]
fn svg_draws_the_symbol_as_vectors() {
    let c = code("7K3M9QX8");
    let l = layout(
        &template("intake"),
        LabelSize::new(50.0, 25.0),
        &LabelData::blank(c),
        &opts(None),
    )
    .expect("layout");
    let s = svg(&l);
    assert!(
        s.starts_with("<svg") && s.contains(r#"width="50mm""#) && s.contains(r#"height="25mm""#)
    );
    assert!(s.contains("7K3M-9QX8"));
    assert!(!s.contains("<image"), "no bitmap");
    let runs = l.qr.runs().len();
    let path = s
        .split(" d=\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .unwrap_or("");
    assert_eq!(
        path.matches('z').count(),
        runs,
        "one subpath per run of dark modules"
    );
    assert!(l.qr.module_mm() >= MIN_MODULE_MM);
}

/// The ZPL of a label: the `^BQ` magnification and the data of its `^FD`.
fn zpl_qr(z: &str) -> (u32, String) {
    let line = z
        .lines()
        .find(|l| l.contains("^BQN"))
        .expect("a ^BQ command");
    let after = line.split("^BQN,2,").nth(1).expect("^BQN,2,");
    let mag: u32 = after
        .split('^')
        .next()
        .unwrap_or("")
        .parse()
        .expect("magnification");
    let data = line
        .split("^FD")
        .nth(1)
        .expect("^FD")
        .trim_end_matches("^FS")
        .to_owned();
    (mag, data)
}

#[test]
fn zpl_carries_the_content_at_a_readable_size() {
    for (size, dpi) in [
        (LabelSize::new(50.0, 25.0), Dpi::D203),
        (LabelSize::new(38.0, 25.0), Dpi::D203),
        (LabelSize::new(50.0, 25.0), Dpi::D300),
        (LabelSize::new(38.0, 25.0), Dpi::D300),
    ] {
        for (name, ecc) in [("intake", 'M'), ("part", 'Q'), ("sale", 'M')] {
            let c = code("7K3M9QX8");
            let mut d = LabelData::blank(c);
            d.category = Some(crate::domain::Category::Ram);
            d.specs.part_spec = Some("8 Go DDR4 ^~".into());
            let host = Some("filiere.example.org");
            let l = layout(&template(name), size, &d, &opts(host)).expect("layout");
            let z = zpl_label(&l, dpi).expect("zpl");
            assert!(z.starts_with("^XA") && z.trim_end().ends_with("^XZ"));
            assert!(z.contains(&format!(
                "^PW{}",
                (size.width_mm * dpi.dots_per_mm()).round()
            )));
            let (mag, data) = zpl_qr(&z);
            assert_eq!(data, format!("{ecc}A,{}", c.qr_content(host)));
            let module_mm = f64::from(mag) / dpi.dots_per_mm();
            assert!(module_mm >= MIN_MODULE_MM, "{module_mm} mm at {dpi:?}");
            assert!(mag <= 10);
            assert!(z.contains("7K3M-9QX8"));
            for field in z.split("^FD").skip(1) {
                let data = field.split("^FS").next().unwrap_or("");
                assert!(
                    !data.contains('^') && !data.contains('~'),
                    "escaped: {data}"
                );
            }
            if name == "part" && size.width_mm == 50.0 {
                assert!(
                    z.contains("8 Go DDR4 \\5E\\7E"),
                    "special characters escaped"
                );
            }
        }
    }
    let many = zpl(
        &vec![
            layout(
                &template("intake"),
                LabelSize::new(50.0, 25.0),
                &LabelData::blank(code("7K3M9QX8")),
                &opts(None)
            )
            .expect("layout");
            3
        ],
        Dpi::D203,
    )
    .expect("zpl");
    assert_eq!(many.matches("^XA").count(), 3);
    assert_eq!(zpl(&[], Dpi::D203), Err(LabelError::Count(0)));
}

#[test]
fn pdf_sheets_paginate_from_the_start_slot() {
    let l = layout(
        &template("intake"),
        SheetKind::L7160.sheet().label,
        &LabelData::blank(code("7K3M9QX8")),
        &opts(None),
    )
    .expect("layout");
    let sheet = SheetKind::L7160.sheet();
    let pdf = pdf_sheet(&sheet, &vec![l.clone(); 21], 1).expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));
    assert!(matches!(
        pdf_sheet(&sheet, std::slice::from_ref(&l), 0),
        Err(LabelError::StartSlot { .. })
    ));
    assert!(matches!(
        pdf_sheet(&sheet, std::slice::from_ref(&l), 22),
        Err(LabelError::StartSlot { .. })
    ));
    assert_eq!(pdf_sheet(&sheet, &[], 1), Err(LabelError::Count(0)));
}
