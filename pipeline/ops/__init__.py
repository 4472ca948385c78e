"""What operators watch: consumer lag, metrics, health, logs."""
