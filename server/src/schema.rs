// Diesel table definitions, one set for both backends (see migrations/).
// Written by hand to match migrations/sqlite and migrations/postgres.

diesel::table! {
    regions (id) {
        id -> BigInt,
        name -> Text,
        code -> Text,
        created_at -> Timestamp,
        hold_days -> Integer,
    }
}

diesel::table! {
    sites (id) {
        id -> BigInt,
        region_id -> BigInt,
        name -> Text,
        kind -> Text,
        address -> Nullable<Text>,
        created_at -> Timestamp,
        opening_hours -> Nullable<Text>,
        organisation_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    organisations (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        siret -> Nullable<Text>,
        public_body -> Bool,
        region_id -> Nullable<BigInt>,
        address -> Nullable<Text>,
        weee_status -> Nullable<Text>,
        contact -> Nullable<Text>,
        created_at -> Timestamp,
        vat_scheme -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        badge_hash -> Nullable<Text>,
        site_id -> Nullable<BigInt>,
        region_id -> Nullable<BigInt>,
        organisation_id -> Nullable<BigInt>,
        language -> Text,
        active -> Bool,
        created_at -> Timestamp,
        setup_token_hash -> Nullable<Text>,
        setup_expires_at -> Nullable<Timestamp>,
        data_security -> Bool,
    }
}

diesel::table! {
    benches (id) {
        id -> BigInt,
        site_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        bench_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    collections (id) {
        id -> BigInt,
        donor_id -> BigInt,
        site_id -> BigInt,
        pickup_date -> Date,
        pickup_address -> Nullable<Text>,
        declared_count -> Integer,
        declared_weight_g -> Nullable<BigInt>,
        legal_status -> Text,
        waste_code -> Nullable<Text>,
        reference -> Nullable<Text>,
        notes -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
        status -> Text,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<BigInt>,
        missing_count -> Nullable<Integer>,
        missing_weight_g -> Nullable<BigInt>,
    }
}

diesel::table! {
    donor_offers (id) {
        id -> BigInt,
        region_id -> BigInt,
        organisation_name -> Text,
        siret -> Text,
        public_body -> Bool,
        contact_name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        address -> Text,
        availability -> Text,
        laptops -> Integer,
        desktops -> Integer,
        monitors -> Integer,
        others -> Integer,
        notes -> Nullable<Text>,
        client_hash -> Text,
        form_nonce -> Text,
        status -> Text,
        collection_id -> Nullable<BigInt>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        decline_reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    label_batches (id) {
        id -> BigInt,
        site_id -> BigInt,
        bench_id -> Nullable<BigInt>,
        count -> Integer,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    weee_batches (id) {
        id -> BigInt,
        site_id -> BigInt,
        recycler_id -> BigInt,
        status -> Text,
        weight_g -> Nullable<BigInt>,
        waste_form_ref -> Nullable<Text>,
        notes -> Nullable<Text>,
        opened_by -> BigInt,
        opened_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        handed_over_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    items (id) {
        id -> BigInt,
        code -> Text,
        kind -> Text,
        category -> Text,
        state -> Text,
        version -> BigInt,
        site_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        origin_id -> Nullable<BigInt>,
        collection_id -> Nullable<BigInt>,
        brand -> Nullable<Text>,
        model -> Nullable<Text>,
        serial -> Nullable<Text>,
        serial_norm -> Nullable<Text>,
        asset_tag -> Nullable<Text>,
        asset_tag_norm -> Nullable<Text>,
        specs -> Text,
        weight_g -> Nullable<BigInt>,
        weight_estimated -> Bool,
        functional_grade -> Nullable<Text>,
        cosmetic_grade -> Nullable<Text>,
        weee_batch_id -> Nullable<BigInt>,
        lifecycle -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        spec_key -> Nullable<Text>,
        blocker -> Nullable<Text>,
        state_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    label_codes (code) {
        code -> Text,
        batch_id -> BigInt,
        item_id -> Nullable<BigInt>,
        claimed_at -> Nullable<Timestamp>,
        print_count -> Integer,
        last_printed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    printers (id) {
        id -> BigInt,
        site_id -> BigInt,
        bench_id -> Nullable<BigInt>,
        name -> Text,
        kind -> Text,
        address -> Text,
        dpi -> Nullable<Integer>,
        media -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    label_templates (id) {
        id -> BigInt,
        site_id -> BigInt,
        name -> Text,
        definition -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    item_events (id) {
        id -> BigInt,
        item_id -> BigInt,
        event_type -> Text,
        payload -> Text,
        actor_id -> Nullable<BigInt>,
        bench_id -> Nullable<BigInt>,
        site_id -> BigInt,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        version -> BigInt,
        key_owner -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        response -> Nullable<Text>,
        flow -> Nullable<Text>,
    }
}

diesel::table! {
    drives (id) {
        id -> BigInt,
        item_id -> BigInt,
        serial -> Text,
        serial_norm -> Text,
        make -> Nullable<Text>,
        model -> Nullable<Text>,
        size_gb -> Nullable<Integer>,
        bus -> Nullable<Text>,
        media -> Nullable<Text>,
        event_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    erasure_records (id) {
        id -> BigInt,
        event_id -> BigInt,
        item_id -> BigInt,
        drive_serial -> Text,
        level -> Text,
        technique -> Text,
        tool -> Text,
        tool_version -> Nullable<Text>,
        method -> Nullable<Text>,
        passes -> Nullable<Integer>,
        verified -> Bool,
        started_at -> Timestamp,
        ended_at -> Timestamp,
        result -> Text,
        report -> Nullable<Text>,
        operator_id -> Nullable<BigInt>,
        bench_id -> Nullable<BigInt>,
        voided_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    qa_reports (id) {
        id -> BigInt,
        event_id -> BigInt,
        item_id -> BigInt,
        passed -> Bool,
        functional_grade -> Nullable<Text>,
        cosmetic_grade -> Nullable<Text>,
        os_installed -> Nullable<Text>,
        checks -> Text,
        notes -> Nullable<Text>,
        tester_id -> Nullable<BigInt>,
        bench_id -> Nullable<BigInt>,
        voided_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sites -> regions (region_id));
diesel::joinable!(organisations -> regions (region_id));
diesel::joinable!(users -> sites (site_id));
diesel::joinable!(users -> regions (region_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(benches -> sites (site_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> benches (bench_id));
diesel::joinable!(collections -> organisations (donor_id));
diesel::joinable!(collections -> sites (site_id));
diesel::joinable!(collections -> users (created_by));
diesel::joinable!(donor_offers -> regions (region_id));
diesel::joinable!(donor_offers -> collections (collection_id));
diesel::joinable!(label_batches -> sites (site_id));
diesel::joinable!(label_batches -> benches (bench_id));
diesel::joinable!(label_batches -> users (created_by));
diesel::joinable!(weee_batches -> sites (site_id));
diesel::joinable!(weee_batches -> organisations (recycler_id));
diesel::joinable!(weee_batches -> users (opened_by));
diesel::joinable!(items -> sites (site_id));
diesel::joinable!(items -> collections (collection_id));
diesel::joinable!(items -> weee_batches (weee_batch_id));
diesel::joinable!(label_codes -> label_batches (batch_id));
diesel::joinable!(label_codes -> items (item_id));
diesel::joinable!(printers -> sites (site_id));
diesel::joinable!(printers -> benches (bench_id));
diesel::joinable!(label_templates -> sites (site_id));
diesel::joinable!(label_templates -> users (created_by));
diesel::joinable!(item_events -> items (item_id));
diesel::joinable!(item_events -> users (actor_id));
diesel::joinable!(item_events -> benches (bench_id));
diesel::joinable!(item_events -> sites (site_id));
diesel::joinable!(drives -> items (item_id));
diesel::joinable!(drives -> item_events (event_id));
diesel::joinable!(erasure_records -> item_events (event_id));
diesel::joinable!(erasure_records -> items (item_id));
diesel::joinable!(erasure_records -> users (operator_id));
diesel::joinable!(erasure_records -> benches (bench_id));
diesel::joinable!(qa_reports -> item_events (event_id));
diesel::joinable!(qa_reports -> items (item_id));
diesel::joinable!(qa_reports -> users (tester_id));
diesel::joinable!(qa_reports -> benches (bench_id));

diesel::table! {
    proof_types (key) {
        key -> Text,
        label_fr -> Text,
        label_en -> Text,
        valid_days -> Integer,
        position -> Integer,
    }
}

diesel::table! {
    training_topics (key) {
        key -> Text,
        label_fr -> Text,
        label_en -> Text,
        position -> Integer,
    }
}

diesel::table! {
    beneficiaries (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        social_worker_id -> BigInt,
        reference -> Text,
        household_size -> Nullable<Integer>,
        proof_type -> Nullable<Text>,
        proof_date -> Nullable<Date>,
        consent_at -> Nullable<Timestamp>,
        consent_text -> Nullable<Text>,
        contact -> Nullable<Text>,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    catalogue (item_id) {
        item_id -> BigInt,
        region_id -> BigInt,
        site_id -> BigInt,
        category -> Text,
        screen_tenths -> Integer,
        ram_gb -> Integer,
        storage_type -> Nullable<Text>,
        storage_gb -> Integer,
        functional_grade -> Nullable<Text>,
        cosmetic_grade -> Nullable<Text>,
        ready_at -> Timestamp,
    }
}

diesel::table! {
    training_sessions (id) {
        id -> BigInt,
        region_id -> BigInt,
        venue_id -> BigInt,
        trainer -> Text,
        starts_at -> Timestamp,
        duration_minutes -> Integer,
        capacity -> Integer,
        topics -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reservations (id) {
        id -> BigInt,
        item_id -> BigInt,
        beneficiary_id -> BigInt,
        organisation_id -> BigInt,
        social_worker_id -> BigInt,
        region_id -> BigInt,
        site_id -> BigInt,
        category -> Text,
        status -> Text,
        hold_until -> Timestamp,
        pickup_at -> Timestamp,
        override_reason -> Nullable<Text>,
        training_refused -> Nullable<Text>,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    training_bookings (id) {
        id -> BigInt,
        session_id -> BigInt,
        beneficiary_id -> BigInt,
        organisation_id -> BigInt,
        reservation_id -> Nullable<BigInt>,
        status -> Text,
        attendance -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    needs (id) {
        id -> BigInt,
        beneficiary_id -> BigInt,
        organisation_id -> BigInt,
        region_id -> BigInt,
        category -> Text,
        min_screen_tenths -> Nullable<Integer>,
        min_ram_gb -> Nullable<Integer>,
        storage_type -> Nullable<Text>,
        min_storage_gb -> Nullable<Integer>,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        scope -> Text,
        failed_at -> Timestamp,
    }
}

diesel::joinable!(beneficiaries -> organisations (organisation_id));
diesel::joinable!(beneficiaries -> users (social_worker_id));
diesel::joinable!(catalogue -> items (item_id));
diesel::joinable!(catalogue -> sites (site_id));
diesel::joinable!(catalogue -> regions (region_id));
diesel::joinable!(training_sessions -> organisations (venue_id));
diesel::joinable!(reservations -> items (item_id));
diesel::joinable!(reservations -> beneficiaries (beneficiary_id));
diesel::joinable!(reservations -> sites (site_id));
diesel::joinable!(training_bookings -> training_sessions (session_id));
diesel::joinable!(training_bookings -> beneficiaries (beneficiary_id));
diesel::joinable!(training_bookings -> reservations (reservation_id));
diesel::joinable!(needs -> beneficiaries (beneficiary_id));

diesel::table! {
    price_caps (category) {
        category -> Text,
        max_cents -> BigInt,
        legal_reference -> Text,
        position -> Integer,
    }
}

diesel::table! {
    price_rules (id) {
        id -> BigInt,
        region_id -> BigInt,
        category -> Text,
        grade -> Text,
        price_cents -> BigInt,
        public_body_price_cents -> Nullable<BigInt>,
        updated_by -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    document_counters (organisation_id, year, kind) {
        organisation_id -> BigInt,
        year -> Integer,
        kind -> Text,
        last_number -> BigInt,
    }
}

diesel::table! {
    sales (id) {
        id -> BigInt,
        kind -> Text,
        number -> Text,
        year -> Integer,
        seq -> BigInt,
        seller_id -> BigInt,
        site_id -> BigInt,
        region_id -> BigInt,
        reservation_id -> Nullable<BigInt>,
        beneficiary_id -> Nullable<BigInt>,
        organisation_id -> Nullable<BigInt>,
        partner_id -> Nullable<BigInt>,
        buyer -> Text,
        reason -> Nullable<Text>,
        credits_id -> Nullable<BigInt>,
        total_cents -> BigInt,
        vat_scheme -> Text,
        sold_by -> BigInt,
        sold_at -> Timestamp,
    }
}

diesel::table! {
    sale_lines (id) {
        id -> BigInt,
        sale_id -> BigInt,
        position -> Integer,
        item_id -> BigInt,
        code -> Text,
        category -> Text,
        brand -> Nullable<Text>,
        model -> Nullable<Text>,
        price_cents -> BigInt,
        public_body -> Bool,
        guarantee_until -> Nullable<Date>,
        status -> Text,
    }
}

diesel::table! {
    payments (id) {
        id -> BigInt,
        sale_id -> BigInt,
        method -> Text,
        amount_cents -> BigInt,
        reference -> Nullable<Text>,
    }
}

diesel::table! {
    after_sales (id) {
        id -> BigInt,
        sale_id -> BigInt,
        line_id -> BigInt,
        item_id -> BigInt,
        reason -> Text,
        opened_by -> BigInt,
        opened_at -> Timestamp,
        outcome -> Nullable<Text>,
        outcome_reason -> Nullable<Text>,
        settled_by -> Nullable<BigInt>,
        settled_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        credit_note_id -> Nullable<BigInt>,
        replacement_sale_id -> Nullable<BigInt>,
    }
}

diesel::joinable!(price_rules -> regions (region_id));
diesel::joinable!(sale_lines -> sales (sale_id));
diesel::joinable!(sale_lines -> items (item_id));
diesel::joinable!(payments -> sales (sale_id));
diesel::joinable!(after_sales -> sale_lines (line_id));

diesel::table! {
    item_deltas (id) {
        id -> BigInt,
        site_id -> BigInt,
        collection_id -> Nullable<BigInt>,
        category -> Text,
        state -> Text,
        grade -> Text,
        spec_key -> Text,
        weight_g -> Nullable<BigInt>,
        weight_estimated -> Bool,
        n -> Integer,
        blocker -> Text,
        state_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    stock_counts (site_id, category, state, grade, spec_key) {
        site_id -> BigInt,
        category -> Text,
        state -> Text,
        grade -> Text,
        spec_key -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    collection_counts (collection_id, category, state) {
        collection_id -> BigInt,
        category -> Text,
        state -> Text,
        n -> BigInt,
        weighed_n -> BigInt,
        weighed_g -> BigInt,
        estimated_n -> BigInt,
        estimated_g -> BigInt,
    }
}

diesel::table! {
    flow_deltas (id) {
        id -> BigInt,
        site_id -> BigInt,
        occurred_at -> Timestamp,
        flow -> Text,
        category -> Text,
        weight_g -> Nullable<BigInt>,
        weight_estimated -> Bool,
        received_at -> Nullable<Timestamp>,
        n -> Integer,
    }
}

diesel::table! {
    flow_weeks (week, flow, site_id) {
        week -> Date,
        flow -> Text,
        site_id -> BigInt,
        n -> BigInt,
    }
}

diesel::table! {
    flow_months (month, flow, category, site_id) {
        month -> Date,
        flow -> Text,
        category -> Text,
        site_id -> BigInt,
        n -> BigInt,
        weighed_n -> BigInt,
        weighed_g -> BigInt,
        estimated_n -> BigInt,
        estimated_g -> BigInt,
    }
}

diesel::table! {
    ready_times (month, site_id, days) {
        month -> Date,
        site_id -> BigInt,
        days -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    counter_folds (id) {
        id -> Integer,
        generation -> BigInt,
    }
}

diesel::table! {
    aging_days (state, day, site_id, blocker) {
        state -> Text,
        day -> Date,
        site_id -> BigInt,
        blocker -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    aging_months (state, month, site_id, blocker) {
        state -> Text,
        month -> Date,
        site_id -> BigInt,
        blocker -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    aging_thresholds (state) {
        state -> Text,
        days -> Integer,
    }
}

diesel::table! {
    impact_factors (category) {
        category -> Text,
        avoided_g_per_year -> Nullable<BigInt>,
        avoided_source -> Nullable<Text>,
        manufacturing_g -> Nullable<BigInt>,
        manufacturing_source -> Nullable<Text>,
        estimated_weight_g -> BigInt,
        weight_source -> Text,
        source_date -> Date,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    issued_documents (id) {
        id -> BigInt,
        public_id -> Text,
        kind -> Text,
        subject -> Text,
        title -> Text,
        issuer_id -> Nullable<BigInt>,
        issuer_name -> Text,
        site_id -> Nullable<BigInt>,
        region_id -> BigInt,
        organisation_id -> Nullable<BigInt>,
        issued_by -> BigInt,
        signed -> Bool,
        issued_at -> Timestamp,
        sha256 -> Text,
        pdf -> Binary,
    }
}

diesel::table! {
    asset_imports (id) {
        id -> BigInt,
        collection_id -> BigInt,
        created_by -> BigInt,
        created_at -> Timestamp,
        file_sha256 -> Text,
        total -> Integer,
        done -> Integer,
        already -> Integer,
        status -> Text,
        label_batch_id -> Nullable<BigInt>,
        lines -> Text,
        error -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    regions,
    sites,
    organisations,
    users,
    benches,
    sessions,
    collections,
    donor_offers,
    server_secrets,
    label_batches,
    weee_batches,
    items,
    label_codes,
    label_templates,
    printers,
    item_events,
    drives,
    erasure_records,
    qa_reports,
    proof_types,
    training_topics,
    beneficiaries,
    catalogue,
    training_sessions,
    reservations,
    training_bookings,
    needs,
    login_failures,
    price_caps,
    price_rules,
    document_counters,
    sales,
    sale_lines,
    payments,
    after_sales,
    item_deltas,
    stock_counts,
    collection_counts,
    flow_deltas,
    flow_weeks,
    flow_months,
    ready_times,
    aging_days,
    aging_months,
    aging_thresholds,
    impact_factors,
    settings,
    issued_documents,
    asset_imports,
);
