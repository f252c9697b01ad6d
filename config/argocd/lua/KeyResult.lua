-- KeyResult: its pace, then the rules of a PromQL source, then whether metrics arrived.
return pace_problem(", current " .. num(status.current))
  or rules_not_synced()
  or waiting_for_metrics(status.current ~= nil or status.progress ~= nil)
  or healthy(pace_message("no value yet"))
