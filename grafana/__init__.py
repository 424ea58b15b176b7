"""Grafana for openisp: provisioning, and the dashboards generated from code (see grafana/README.md)."""
