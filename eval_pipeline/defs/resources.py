import dagster as dg

from eval_pipeline.resources import Judge, LandingZone, Settings, Warehouse


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": Warehouse(),
            "landing": LandingZone(),
            "settings": Settings(),
            "judge": Judge(),
        },
        # Every run, daily_eval's and the UI's materializations of any selection, in one process (see automation.py).
        executor=dg.in_process_executor,
    )
