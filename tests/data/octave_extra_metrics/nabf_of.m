function v = nabf_of(F, A, B)
% NABF output of objective_fusion_perform_fn(F, {A, B}) (B. K. Shreyamsha Kumar).
[QABF, LABF, NABF, NABF1] = objective_fusion_perform_fn(F, {A, B});
v = NABF;
