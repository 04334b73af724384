% The UFA-Fuse paper's seven metrics with the MATLAB reference code in Octave, end to end (imread,
% rgb2gray, the seven calls of the golden set) on the first N MFIFB-lytro triples (pairs 1.., then the
% methods below), for reports/benchmarks/metrics.md. Run from the repository root:
%   DATA=../shared/datasets RESULTS=../shared/reference-results/mfifb-lytro \
%   MFIF_METRICS=.../MFIF-Metrics/fusion-metrics IFM=.../imageFusionMetrics octave-cli -q benchmarks/metrics_at_scale.m
pkg load image;
addpath('tests/data/octave_structural_metrics');    % freqspace shim (metricChenBlum)
addpath(getenv('MFIF_METRICS'), '-end'); addpath(getenv('IFM'), '-end');
addpath(fullfile(getenv('IFM'), 'pyrtools', 'matlabPyrTools'), '-end');
warning('off', 'all');
methods = {'CNN', 'GFF', 'DSIFT', 'ASR', 'MWGF'};
gray = @(f) double(rgb2gray(imread(f)));
n = 0; t0 = tic;
for p = 1:4
  for m = 1:numel(methods)
    A = gray(sprintf('%s/mfifb/lytro_%02d-A.jpg', getenv('DATA'), p));
    B = gray(sprintf('%s/mfifb/lytro_%02d-B.jpg', getenv('DATA'), p));
    F = imread(sprintf('%s/lytro_%02d_%s.jpg', getenv('RESULTS'), p, methods{m}));
    if ndims(F) == 3, F = rgb2gray(F); end
    F = double(F);
    v = [AG(F), SD(F), EN(F, 256), VIFF_Public(A, B, F), metricXydeas(A, B, F), real(metricChenBlum(A, B, F))];
    evalc('q = metricPWW(A, B, F);');                % corrDn.m prints a "compile the MEX" note
    n = n + 1;
  end
end
printf('triples,seconds,seconds_per_triple\n%d,%.1f,%.3f\n', n, toc(t0), toc(t0) / n);
