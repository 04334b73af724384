% Run the MFIF-Metrics reference functions on the cases in this folder; prints CSV lines
% case_id,metric,value. Run from this folder:
%   MFIF_METRICS=/path/to/MFIF-Metrics/fusion-metrics octave-cli -q run_reference.m
pkg load image
addpath(getenv('MFIF_METRICS'));
addpath(pwd, '-begin');   % edge.m shim first
warning('off', 'all');
names = {'camera40x33', 'coins37x51', 'noise23x29', 'step31x45', 'moon26x19'};
for k = 1:numel(names)
  n = names{k};
  A = double(imread([n '-A.png']));
  B = double(imread([n '-B.png']));
  F = double(imread([n '-F.png']));
  GT = double(imread([n '-GT.png']));
  printf('%s,MI,%.17g\n', n, metricMI(A, B, F, 1));
  printf('%s,NCIE,%.17g\n', n, metricWang(A, B, F));
  printf('%s,SSIM,%.17g\n', n, ssim_index(F, GT));
  tic; v = fmi(A, B, F); t = toc;
  printf('%s,FMI,%.17g\n', n, v);
  fprintf(stderr, '%s fmi %.1f s\n', n, t);
end
