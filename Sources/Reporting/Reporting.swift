// Reports: see the files beside this one.
