"""Nightly data-quality gate for the movie-service event logs.

N shard tasks scan the day's files in parallel (dynamic task mapping), a
merge task combines their partial results, runs drift against the history,
writes the reports and exits with dqaudit's gate code. Training runs only
when the merge passes; a warnings-only day (exit 99, from
--warn-exit-code 99) skips training instead of failing the DAG.

Exit codes: 0 pass, 1 gate failed, 2 config error, 3 input or output error,
130 interrupted; 99 here = warnings only.
"""

from __future__ import annotations

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

CONFIG = "/opt/dqaudit/dqaudit.yaml"
PARTIALS = "s3://ml-dq/partials/{{ ds }}"
SHARDS = 4

with DAG(
    dag_id="dqaudit_nightly",
    schedule="15 2 * * *",
    start_date=pendulum.datetime(2024, 3, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one day at a time: the drift history is shared
    tags=["data-quality"],
) as dag:
    shards = BashOperator.partial(
        task_id="dqaudit_shard",
        append_env=True,  # keep PATH and credentials beside SHARD and INDEX
        # Shard scans never gate: they exit 0 once their partial is written.
        bash_command=(
            "dqaudit scan --config " + CONFIG + " --date {{ ds }} "
            "--shard $SHARD --partial " + PARTIALS + "/part-$INDEX.json --quiet"
        ),
    ).expand(
        env=[{"SHARD": f"{i}/{SHARDS}", "INDEX": str(i)} for i in range(SHARDS)],
    )

    merge = BashOperator(
        task_id="dqaudit_merge",
        bash_command=(
            "dqaudit merge --config " + CONFIG + " --date {{ ds }} "
            "--warn-exit-code 99 " + PARTIALS + "/part-*.json"
        ),
        skip_on_exit_code=99,
    )

    train = BashOperator(
        task_id="train_model",
        bash_command="echo 'retrain the recommender on {{ ds }}'",
    )

    shards >> merge >> train
