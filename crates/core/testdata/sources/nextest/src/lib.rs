//! OQ checks for the LIMS qualification fixture (run with `cargo nextest run --profile ci`).

pub fn retention_days() -> u32 {
    7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urs_lims_030_retention_is_positive() {
        println!("retention = {}", retention_days());
        assert!(retention_days() > 0);
    }

    #[test]
    fn urs_lims_031_retention_meets_policy() {
        assert_eq!(retention_days(), 35, "retention below policy");
    }

    #[test]
    fn urs_lims_032_panics_on_missing_config() {
        let cfg: Option<&str> = None;
        let _ = cfg.expect("config file lims.toml is missing");
    }

    #[test]
    #[ignore = "needs a live database"]
    fn urs_lims_033_database_reachable() {}

    mod audit {
        #[test]
        fn urs_lims_034_entries_are_ordered() {
            let v = [1, 2, 3];
            assert!(v.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
