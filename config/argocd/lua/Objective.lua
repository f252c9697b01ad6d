-- Objective: its pace, then whether metrics arrived.
return pace_problem("")
  or waiting_for_metrics(status.progress ~= nil)
  or healthy(pace_message("no progress yet"))
