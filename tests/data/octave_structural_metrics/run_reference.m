% Print case_id,metric,value,call for every case of this folder (Octave, %.17g).
% Run from this folder, see README.md:
%   MFIF_METRICS=/path/to/MFIF-Metrics/fusion-metrics LD_PRELOAD=/tmp/libdaxpy_fma.so octave-cli -q run_reference.m
pkg load image
addpath(getenv('MFIF_METRICS'));
addpath(pwd);  % the freqspace and blkproc shims, first on the path
warning('off', 'all');
cases = {'odd_67x53', 'even_48x70', 'flat_45x45', 'odd_131x97', 'constF_40x36', 'zeroA_33x40', ...
         'flatdiff_41x39', 'min_11x11', 'odd_17x33', 'constA_36x30', 'zeroB_30x44', 'equal_64x64', ...
         'flatdiff_41x39_float', 'odd_67x53_float'};
calls = {'Qcv', 'real(metricChen(A,B,F))'; 'Qcvejic', 'metricCvejic(A,B,F,2)'; 'Qy', 'metricYang(A,B,F)'; ...
         'Qw', 'metricPeilla(A,B,F,2)'; 'Qs', 'metricPeilla(A,B,F,1)'; 'Qe', 'metricPeilla(A,B,F,3)'; ...
         'Qp', 'metricZhao(A,B,F)'};
printf('case_id,metric,value,call\n');
for i = 1:numel(cases)
  c = cases{i};
  base = strrep(c, '_float', '');
  A = double(imread([base '-A.png'])); B = double(imread([base '-B.png'])); F = double(imread([base '-F.png']));
  if ~strcmp(c, base)
    % Non-integer pixel values that keep flat regions flat (same arithmetic in the Python test).
    A = A * 0.73 + 11.3;
    B = B * 0.9 + 5.1;
    F = 0.5 * (A + B) + 0.25 * (A - B);
  end
  for k = 1:rows(calls)
    printf('%s,%s,%.17g,%s\n', c, calls{k,1}, eval(calls{k,2}), calls{k,2});
  end
end
