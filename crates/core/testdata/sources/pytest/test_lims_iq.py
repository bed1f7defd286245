"""IQ checks for the LIMS qualification fixture (run with pytest --junitxml)."""
import pytest


def test_database_version(record_property):
    record_property("requirement", "URS-LIMS-001")
    assert "15.4".startswith("15")


def test_tls_enforced(record_property):
    record_property("requirements", "URS-LIMS-002, URS-LIMS-003")
    print("listener port 443 uses TLSv1.2")
    assert True


def test_backup_retention_days(record_property):
    record_property("requirement", "URS-LIMS-004")
    record_property("measured_days", "7")
    retention = 7
    assert retention == 35, "backup retention must be 35 days"


@pytest.fixture
def broken_connection():
    raise ConnectionError("could not reach lims-db.internal:5432")


def test_audit_table_present(broken_connection, record_property):
    record_property("requirement", "URS-LIMS-005")
    assert broken_connection


@pytest.mark.skip(reason="PQ only: load test runs in the PQ phase")
def test_throughput():
    pass


@pytest.mark.parametrize("bucket", ["lims-raw", "lims-archive"])
def test_bucket_encrypted(bucket, record_property):
    record_property("requirement", "URS-LIMS-006")
    assert bucket.startswith("lims-")
